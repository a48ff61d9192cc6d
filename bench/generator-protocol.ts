// What the bench and its load generator (bench/generator.ts, a child process) tell each other, and the client that
// runs the generator from the bench.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** accepted: 2xx; shed: 503 overloaded; unknown: 503 outcome_unknown (the deadline); error: anything else. */
export type Outcome = 'accepted' | 'shed' | 'unknown' | 'error';

export type GeneratorCommand =
  /** sockets: the most connections the generator opens (0: as many as the load needs, opened on demand). */
  | { kind: 'init'; origin: number; apiKey: string; users: readonly number[]; sockets: number }
  /** Opens that many keep-alive connections to the target before a load. */
  | { kind: 'warm'; target: string; sockets: number }
  /**
   * record: count the requests in the timeline and keep their keys (false for the generator's self-check); keys:
   * false keeps no keys (a long soak), default as record.
   */
  | { kind: 'open'; target: string; rate: number; seconds: number; record: boolean; keys?: boolean }
  | { kind: 'closed'; target: string; connections: number; seconds: number; record: boolean; keys?: boolean }
  /** The timeline so far; clear: hand over and forget the seconds already over (a long soak reports as it goes). */
  | { kind: 'report'; clear?: boolean };

/** One phase's requests, all answered. Latencies in ms from each request's scheduled send time. */
export interface PhaseResult {
  readonly kind: 'phase';
  readonly started: number;
  /** Epoch ms of the phase's last answer (for the drain after an open-loop phase). */
  readonly lastAnswer: number;
  readonly sent: number;
  readonly counts: Record<Outcome, number>;
  readonly acceptedP50: number | null;
  readonly acceptedP99: number | null;
  readonly acceptedMax: number | null;
  /** p99 over accepted and outcome_unknown answers: every request that was let in. */
  readonly admittedP99: number | null;
  readonly shedP99: number | null;
  /** The 'error' answers by `<status> <problem code>` or socket error message. */
  readonly errorKinds: Record<string, number>;
}

/** Raw per-second samples, in the generator (by the second the answer came, or the request was sent). */
export interface SecondRaw {
  readonly second: number;
  sent: number;
  readonly sendLagMs: number[];
  readonly accepted: number[];
  readonly shed: number[];
  readonly unknown: number[];
  readonly error: number[];
  loopMaxMs: number | null;
}

export const emptySecond = (second: number): SecondRaw => ({
  second,
  sent: 0,
  sendLagMs: [],
  accepted: [],
  shed: [],
  unknown: [],
  error: [],
  loopMaxMs: null,
});

export type GeneratorReply =
  | { kind: 'ok' }
  | PhaseResult
  | { kind: 'report'; seconds: SecondRaw[]; keys: Record<Outcome, string[]> }
  | { kind: 'error'; message: string };

export interface Generator {
  send<R extends GeneratorReply>(command: GeneratorCommand): Promise<R>;
  /** The generator's pid, for its CPU time. */
  readonly pid: number;
  stop(): void;
}

/** The generator as a child process under tsx; commands run concurrently, each reply matched by id. */
export function startGenerator(): Generator {
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'generator.ts'), [], {
    execArgv: ['--import', 'tsx', '--max-old-space-size=2048'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, (reply: GeneratorReply) => void>();
  child.on('message', (m: { id: number; reply: GeneratorReply }) => {
    waiting.get(m.id)?.(m.reply);
    waiting.delete(m.id);
  });
  return {
    pid: child.pid!,
    send<R extends GeneratorReply>(command: GeneratorCommand): Promise<R> {
      const id = ++next;
      return new Promise<R>((resolve, reject) => {
        waiting.set(id, (reply) =>
          reply.kind === 'error' ? reject(new Error(`generator: ${reply.message}`)) : resolve(reply as R),
        );
        child.send({ id, command });
      });
    },
    stop: () => void child.kill('SIGTERM'),
  };
}
