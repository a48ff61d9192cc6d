import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/pool.ts';
import { webhookRepository } from './repository.ts';

export type DeliveryResult = 'delivered' | 'failed' | 'retried';

export interface WebhookMetrics {
  /** One attempt's result: delivered, failed (the endpoint will retry it), retried (a delivered retry). */
  delivery(result: DeliveryResult): void;
  disabled(): void;
}

/**
 * webhook_deliveries_total{result}, webhook_endpoints_disabled_total, and webhook_oldest_undelivered_seconds{endpoint}:
 * the one metric labelled by an id, since endpoints are few and created by admins (cardinality stays small).
 */
export function createWebhookMetrics(registry: Registry, db: Db): WebhookMetrics {
  const deliveries = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook delivery attempts by result: delivered (first try), retried (delivered after failures), failed',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of ['delivered', 'failed', 'retried']) deliveries.inc({ result }, 0);
  const disabled = new Counter({
    name: 'webhook_endpoints_disabled_total',
    help: 'Webhook endpoints this instance disabled after failing for WEBHOOK_RETRY_PERIOD',
    registers: [registry],
  });
  new Gauge({
    name: 'webhook_oldest_undelivered_seconds',
    help: 'Per enabled webhook endpoint: age of the oldest published event of its types it has not received (0: none)',
    labelNames: ['endpoint'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await webhookRepository.backlog(db).catch(() => []);
      for (const row of rows) this.set({ endpoint: row.id.toString() }, row.age_seconds);
    },
  });
  return { delivery: (result) => deliveries.inc({ result }), disabled: () => disabled.inc() };
}
