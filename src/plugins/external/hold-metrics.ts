import { Counter, type Registry } from 'prom-client';

export type HoldOperation = 'authorize' | 'capture' | 'void';
/** A hold's state changes, named after the state it enters. */
export type HoldTransition = 'authorized' | 'captured' | 'voided' | 'expired';
export type HoldRequestStatus = 'success' | 'idempotent_hit' | 'failed';

export interface HoldMetrics {
  /** A hold POST's outcome (a recorded decline, a validation failure or a 503 is 'failed'). */
  request(operation: HoldOperation, status: HoldRequestStatus): void;
  /** Holds this instance moved into a state: created, captured, voided, or expired by its sweeper. */
  transition(transition: HoldTransition, count?: number): void;
}

const OPERATIONS: readonly HoldOperation[] = ['authorize', 'capture', 'void'];
const STATUSES: readonly HoldRequestStatus[] = ['success', 'idempotent_hit', 'failed'];
const TRANSITIONS: readonly HoldTransition[] = ['authorized', 'captured', 'voided', 'expired'];

/**
 * Counts, not amounts: amounts are in many currencies (a sum across them means nothing, a label per currency
 * multiplies the series) and the ledger has them exactly. Replays are requests, never transitions.
 */
export function holdMetrics(registry: Registry): HoldMetrics {
  const requests = new Counter({
    name: 'hold_requests_total',
    help: 'Hold requests (POST /authorizations, capture, void) that passed authentication, by operation and outcome',
    labelNames: ['operation', 'status'] as const,
    registers: [registry],
  });
  const transitions = new Counter({
    name: 'holds_total',
    help: 'Holds this instance authorized, captured, voided, or expired (its sweeper; lazy expiries are not counted)',
    labelNames: ['transition'] as const,
    registers: [registry],
  });
  // Series exist from the start, so a rate() over them never begins with a gap.
  for (const operation of OPERATIONS) for (const status of STATUSES) requests.inc({ operation, status }, 0);
  for (const transition of TRANSITIONS) transitions.inc({ transition }, 0);
  return {
    request: (operation, status) => requests.inc({ operation, status }),
    transition: (transition, count = 1) => transitions.inc({ transition }, count),
  };
}
