/** A background job run on an interval. */
export interface Periodic {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `work` every intervalMs, one run at a time (a slow run delays the next, never overlaps it); each outcome, or
 * the error it failed with, goes to `onRun`, and the next run comes as usual. The timer does not keep the process
 * alive.
 */
export function runEvery<T>(intervalMs: number, work: () => Promise<T>, onRun: (result: T | Error) => void): Periodic {
  let running: Promise<void> | undefined;
  const run = (): void => {
    if (running !== undefined) return;
    running = work()
      .then(onRun, (error: unknown) => onRun(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
