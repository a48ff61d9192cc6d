import type { FieldError } from '../lib/errors.ts';
import { currencyExponent, toMinorUnits } from '../lib/money.ts';
import { rawNumberText } from '../lib/strict-json.ts';
import { toInstant } from '../lib/timestamp.ts';
import type { OpeningBalance, TransactionFilter } from './repository.ts';

/** The history filter from the query, or the fields whose timestamps PostgreSQL could not store. */
export function transactionFilter(query: {
  type?: TransactionFilter['type'];
  created_after?: string;
  created_before?: string;
}): TransactionFilter | FieldError[] {
  const errors: FieldError[] = [];
  const instant = (field: string, text: string | undefined): string | null => {
    if (text === undefined) return null;
    const iso = toInstant(text);
    if (iso === undefined)
      errors.push({
        field: `query.${field}`,
        message: 'must be a date-time in the years 0001-9999, without a leap second',
      });
    return iso ?? null;
  };
  const filter = {
    type: query.type ?? null,
    createdAfter: instant('created_after', query.created_after),
    createdBefore: instant('created_before', query.created_before),
  };
  return errors.length > 0 ? errors : filter;
}

export type Opening = { ok: true; balances: OpeningBalance[] } | { ok: false; errors: FieldError[] };

/** Opening balances by currency, exact; each may be zero (opens the account), never negative or inexact. */
export function openingBalances(balances: Record<string, number | string>): Opening {
  const errors: FieldError[] = [];
  const out: OpeningBalance[] = [];
  for (const [currency, amount] of Object.entries(balances)) {
    const exponent = currencyExponent(currency);
    if (exponent === undefined) {
      errors.push({ field: `balances.${currency.slice(0, 8)}`, message: 'unknown ISO 4217 currency code' });
      continue;
    }
    const isZero = typeof amount === 'string' ? /^0+(\.0+)?$/.test(amount) : amount === 0 && !Object.is(amount, -0);
    const converted = isZero
      ? { ok: true as const, minor: 0n }
      : toMinorUnits(amount, exponent, rawNumberText(balances, currency));
    if (converted.ok) out.push({ currency, exponent, amount: converted.minor });
    else errors.push({ field: `balances.${currency}`, message: converted.message, code: converted.error });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, balances: out };
}
