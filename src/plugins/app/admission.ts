import type { FastifyInstance, FastifyRequest } from 'fastify';
import underPressure from '@fastify/under-pressure';
import { failure, ProblemError, type Failure } from '../../lib/errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A money route (charge, refund, credit): admission control and the request deadline apply to it. */
    money?: boolean;
  }
  interface FastifyRequest {
    /** performance.now() time by which a money request must be answered (REQUEST_DEADLINE_MS after arrival). */
    deadline: number;
    /** Holds one of the MAX_INFLIGHT_REQUESTS slots until its response ends. */
    admitted: boolean;
  }
}

/** Why a request was refused or cut short; the label of requests_shed_total. */
export type ShedReason = 'inflight' | 'event_loop' | 'queue' | 'deadline';
export const SHED_REASONS: readonly ShedReason[] = ['inflight', 'event_loop', 'queue', 'deadline'];

export interface AdmissionSettings {
  /** Money requests in progress before new ones are refused; 0: no bound. */
  readonly maxInflight: number;
  /** Mean event-loop delay (ms) above which new money requests are refused; 0: not watched. */
  readonly maxEventLoopDelayMs: number;
  readonly deadlineMs: number;
}

export type Shed = (reason: ShedReason) => void;

// How often under-pressure samples the event-loop delay (its mean over the interval): a second smooths out one short
// stall (a GC, a burst of parsing) while still reacting within a second or two to a loop that stays saturated.
const SAMPLE_INTERVAL_MS = 1000;

const isMoney = (request: FastifyRequest): boolean => request.routeOptions.config.money === true;

const overloaded = (): ProblemError =>
  new ProblemError('overloaded', 'The server is at capacity; nothing was done, retry with the same Idempotency-Key');

/**
 * Admission control for money routes, at onRequest (before the body is read or parsed, and before authentication,
 * so a refusal costs next to nothing): past MAX_INFLIGHT_REQUESTS requests in progress, or while the event loop lags
 * more than MAX_EVENT_LOOP_DELAY_MS, the answer is 503 overloaded with Retry-After at once. A refused request never
 * reached a service, so nothing was written and a retry with the same key is always safe. Other routes (health,
 * metrics, reads) are never refused here: an orchestrator must still see the process alive while it sheds.
 */
export async function registerAdmission(app: FastifyInstance, settings: AdmissionSettings, shed: Shed): Promise<void> {
  app.decorateRequest('deadline', 0);
  app.decorateRequest('admitted', false);
  if (settings.maxEventLoopDelayMs > 0) {
    // Start-up (compiling schemas, building the OpenAPI document) blocks the loop once; the samples that saw it say
    // nothing about load, so pressure counts only from two samples after the app is ready.
    let watchFrom = Number.POSITIVE_INFINITY;
    app.addHook('onReady', async () => {
      watchFrom = performance.now() + 2 * SAMPLE_INTERVAL_MS;
    });
    await app.register(underPressure, {
      maxEventLoopDelay: settings.maxEventLoopDelayMs,
      sampleInterval: SAMPLE_INTERVAL_MS,
      // Its own 503 body is replaced by ours; a rejected promise goes to the one error handler.
      pressureHandler: (request) => {
        if (!isMoney(request) || performance.now() < watchFrom) return undefined;
        shed('event_loop');
        return Promise.reject(overloaded());
      },
    });
  }
  let inflight = 0;
  const release = (request: FastifyRequest): void => {
    if (!request.admitted) return;
    request.admitted = false;
    inflight--;
  };
  app.addHook('onRequest', async (request, reply) => {
    if (!isMoney(request)) return;
    request.deadline = performance.now() + settings.deadlineMs;
    if (settings.maxInflight === 0) return;
    if (inflight >= settings.maxInflight) {
      shed('inflight');
      throw overloaded();
    }
    inflight++;
    request.admitted = true;
    // 'close' ends every response, finished or cut off by the client; onResponse covers injected requests.
    reply.raw.once('close', () => release(request));
  });
  app.addHook('onResponse', async (request) => release(request));
}

/**
 * The work, or 503 outcome_unknown once the request's deadline passes. The work goes on (a charge in PostgreSQL may
 * still commit, its response then reaches the caches); the client learns the outcome by retrying with the same key.
 */
export async function withinDeadline<T>(request: FastifyRequest, shed: Shed, work: Promise<T>): Promise<T | Failure> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<Failure>((resolve) => {
    timer = setTimeout(
      () => {
        shed('deadline');
        request.log.warn({ event: 'deadline_exceeded' }, 'money request not answered within REQUEST_DEADLINE_MS');
        resolve(failure('outcome_unknown'));
      },
      Math.max(0, request.deadline - performance.now()),
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
