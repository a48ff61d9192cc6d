import { Counter, Histogram, type Registry } from 'prom-client';

export interface EventMetrics {
  /** Events this instance's sequencer published (gave a seq): events_published_total. */
  readonly published: Counter;
  /** Per sequencer pass, how long its oldest event waited from commit to publication. */
  readonly publicationLag: Histogram;
  /** Events past EVENT_RETENTION this instance's purge deleted. */
  readonly purged: Counter;
}

/** The outbox's metrics, on the app's registry (GET /metrics). */
export function createEventMetrics(registry: Registry): EventMetrics {
  return {
    published: new Counter({
      name: 'events_published_total',
      help: 'Committed events this instance published (gave their seq, so GET /events and the relay see them)',
      registers: [registry],
    }),
    publicationLag: new Histogram({
      name: 'event_publication_lag_seconds',
      help: 'Per sequencer pass, the age of its oldest event when published (from its transaction start to the feed)',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    purged: new Counter({
      name: 'events_purged_total',
      help: 'Events older than EVENT_RETENTION this instance deleted',
      registers: [registry],
    }),
  };
}
