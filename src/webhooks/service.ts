import { randomBytes } from 'node:crypto';
import type { Db } from '../db/pool.ts';
import type { AttemptRow, EndpointRow } from './repository.ts';
import { webhookRepository as repo } from './repository.ts';
import { checkWebhookUrl } from './url-guard.ts';

/** A Standard Webhooks secret: whsec_ and 32 random bytes in base64 (what the reference libraries accept). */
export const generateSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export function renderEndpoint(row: EndpointRow) {
  return {
    id: Number(row.id),
    url: row.url,
    description: row.description,
    event_types: row.event_types,
    enabled: row.disabled_at === null,
    disabled_at: iso(row.disabled_at),
    disabled_reason: row.disabled_reason,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    delivered_seq: Number(row.delivered_seq),
    failing_since: iso(row.failing_since),
    failures: row.failures,
    next_attempt_at: row.next_attempt_at.toISOString(),
  };
}

export function renderAttempt(row: AttemptRow) {
  return {
    id: Number(row.id),
    event_seq: Number(row.event_seq),
    webhook_id: row.webhook_id,
    attempt: row.attempt,
    status: row.status,
    error: row.error,
    delivered: row.delivered,
    duration_ms: row.duration_ms,
    attempted_at: row.attempted_at.toISOString(),
  };
}

export interface CreateInput {
  readonly url: string;
  readonly event_types: string[];
  readonly description?: string | null;
}

export type Created =
  { ok: true; endpoint: ReturnType<typeof renderEndpoint> & { secret: string } } | { ok: false; reason: string };

/** Checks the URL (SSRF guard, resolving the host now), then stores the endpoint with a new secret. */
export async function createEndpoint(
  db: Db,
  input: CreateInput,
  createdBy: string,
  allowlist: readonly string[],
): Promise<Created> {
  const checked = await checkWebhookUrl(input.url, allowlist);
  if (!checked.ok) return checked;
  const secret = generateSecret();
  const id = await repo.create(db, {
    url: input.url,
    eventTypes: input.event_types,
    description: input.description ?? null,
    secret,
    createdBy,
  });
  const row = await repo.find(db, id);
  return { ok: true, endpoint: { ...renderEndpoint(row!), secret } };
}
