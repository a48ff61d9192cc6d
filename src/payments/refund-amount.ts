import { failure, type Failure, type FieldError } from '../lib/errors.ts';
import { formatMajorUnits, toMinorUnits, type AmountResult } from '../lib/money.ts';

/** Every ISO 4217 minor-unit exponent (CLF and UYW have 4). */
export const ISO_EXPONENTS: readonly number[] = [0, 1, 2, 3, 4];

/**
 * A refund amount in major units. Its currency is the charge's, which only the database knows, so it is converted
 * exactly (money.ts, the same rules as charges) at every exponent and the database picks the charge's: the refund
 * stays one round trip.
 */
export interface RefundAmount {
  /** Exact decimal text, the same for every spelling of the value ("12.5", "12.50"); what the fingerprint hashes. */
  readonly canonical: string;
  /** Index = exponent: minor units, or why the amount does not fit that exponent. */
  readonly byExponent: readonly AmountResult[];
}

/**
 * The amount at every exponent, or a field error when it is invalid whatever the currency (zero, negative, not a
 * number: the same error at every exponent), decided before the database is asked.
 */
export function toRefundAmount(amount: number | string, numberText: string | undefined): RefundAmount | FieldError {
  const byExponent = ISO_EXPONENTS.map((exponent) => toMinorUnits(amount, exponent, numberText));
  const fits = byExponent.findIndex((result) => result.ok);
  const fit = byExponent[fits];
  if (fit?.ok === true) return { canonical: formatMajorUnits(fit.minor, fits), byExponent };
  const messages = new Set(byExponent.map((result) => (result.ok ? '' : result.message)));
  const first = byExponent[0];
  if (messages.size === 1 && first?.ok === false) return { field: 'amount', message: first.message, code: first.error };
  // Fits no currency, but why depends on the currency (too many decimals, too large): the charge's says which.
  return { canonical: `unfit:${numberText ?? String(amount)}`, byExponent };
}

/** The field error for an amount that does not fit the charge's currency exponent. */
export function refundAmountError(amount: RefundAmount, exponent: number): FieldError {
  const result = amount.byExponent[exponent];
  if (result === undefined || result.ok) throw new Error(`refund amount fits exponent ${exponent}`);
  return { field: 'amount', message: result.message, code: result.error };
}

/**
 * What to answer when a given amount turns out not to fit the currency (known only to the database, which names the
 * exponent); undefined for the whole amount (null), which always fits.
 */
export function unfitAmountFailure(amount: RefundAmount | null): ((exponent: number) => Failure) | undefined {
  if (amount === null) return undefined;
  return (exponent) => failure('validation_failed', 'The request is invalid', [refundAmountError(amount, exponent)]);
}

/** Minor units per exponent for the database: null where the amount does not fit. */
export function minorByExponent(amount: RefundAmount): (bigint | null)[] {
  return amount.byExponent.map((result) => (result.ok ? result.minor : null));
}
