/**
 * An RFC 3339 date-time (syntax and calendar already checked by the schema's date-time format) as its instant in
 * UTC, ISO text at millisecond precision: extra fractional digits are truncated, as every created_at is shown.
 * Undefined for what PostgreSQL would refuse (a 500, not a 422): a leap second, a year outside 0001-9999 once the
 * offset is applied.
 */
export function toInstant(text: string): string | undefined {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return undefined;
  const iso = new Date(ms).toISOString();
  return /^(?!0000)\d{4}-/.test(iso) ? iso : undefined;
}
