/**
 * Exact money handling: amounts live as integer minor units in `bigint`, never as floats.
 * Conversions from request input are decided on decimal text with integer arithmetic only.
 */

/**
 * ISO 4217 active currency codes → minor-unit exponent (List One, incl. funds codes that have a minor unit,
 * e.g. CLF, UYW, BOV, CHE, CHW, COU, MXV, USN, UYI). Codes without a minor unit (XAU, XAG, XPT, XPD, XDR,
 * XBA..XBD, XSU, XUA, XTS, XXX) are deliberately absent. Withdrawn codes (HRK, ZWL, SLL) are absent; ANG is kept
 * alongside its successor XCG during the 2025 transition.
 */
// prettier-ignore
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  AED: 2, AFN: 2, ALL: 2, AMD: 2, ANG: 2, AOA: 2, ARS: 2, AUD: 2, AWG: 2, AZN: 2,
  BAM: 2, BBD: 2, BDT: 2, BGN: 2, BHD: 3, BIF: 0, BMD: 2, BND: 2, BOB: 2, BOV: 2,
  BRL: 2, BSD: 2, BTN: 2, BWP: 2, BYN: 2, BZD: 2, CAD: 2, CDF: 2, CHE: 2, CHF: 2,
  CHW: 2, CLF: 4, CLP: 0, CNY: 2, COP: 2, COU: 2, CRC: 2, CUC: 2, CUP: 2, CVE: 2,
  CZK: 2, DJF: 0, DKK: 2, DOP: 2, DZD: 2, EGP: 2, ERN: 2, ETB: 2, EUR: 2, FJD: 2,
  FKP: 2, GBP: 2, GEL: 2, GHS: 2, GIP: 2, GMD: 2, GNF: 0, GTQ: 2, GYD: 2, HKD: 2,
  HNL: 2, HTG: 2, HUF: 2, IDR: 2, ILS: 2, INR: 2, IQD: 3, IRR: 2, ISK: 0, JMD: 2,
  JOD: 3, JPY: 0, KES: 2, KGS: 2, KHR: 2, KMF: 0, KPW: 2, KRW: 0, KWD: 3, KYD: 2,
  KZT: 2, LAK: 2, LBP: 2, LKR: 2, LRD: 2, LSL: 2, LYD: 3, MAD: 2, MDL: 2, MGA: 2,
  MKD: 2, MMK: 2, MNT: 2, MOP: 2, MRU: 2, MUR: 2, MVR: 2, MWK: 2, MXN: 2, MXV: 2,
  MYR: 2, MZN: 2, NAD: 2, NGN: 2, NIO: 2, NOK: 2, NPR: 2, NZD: 2, OMR: 3, PAB: 2,
  PEN: 2, PGK: 2, PHP: 2, PKR: 2, PLN: 2, PYG: 0, QAR: 2, RON: 2, RSD: 2, RUB: 2,
  RWF: 0, SAR: 2, SBD: 2, SCR: 2, SDG: 2, SEK: 2, SGD: 2, SHP: 2, SLE: 2, SOS: 2,
  SRD: 2, SSP: 2, STN: 2, SVC: 2, SYP: 2, SZL: 2, THB: 2, TJS: 2, TMT: 2, TND: 3,
  TOP: 2, TRY: 2, TTD: 2, TWD: 2, TZS: 2, UAH: 2, UGX: 0, USD: 2, USN: 2, UYI: 0,
  UYU: 2, UYW: 4, UZS: 2, VED: 2, VES: 2, VND: 0, VUV: 0, WST: 2, XAF: 0, XCD: 2,
  XCG: 2, XOF: 0, XPF: 0, YER: 2, ZAR: 2, ZMW: 2, ZWG: 2,
});

const CURRENCY_CODE_RE = /^[A-Z]{3}$/;

/** Minor-unit exponent of an ISO 4217 code; exact uppercase 3-letter codes only (no case folding). */
export function currencyExponent(code: string): number | undefined {
  if (typeof code !== 'string' || !CURRENCY_CODE_RE.test(code) || !Object.hasOwn(CURRENCY_EXPONENTS, code)) {
    return undefined;
  }
  return CURRENCY_EXPONENTS[code];
}

/** Largest amount or balance in minor units: 2^53-1, so minor-unit integers are exact JSON numbers for every client. */
export const MAX_MINOR_UNITS: bigint = 9007199254740991n;
/** Decimal digits of MAX_MINOR_UNITS; anything with more integer digits is too large without computing it. */
const MAX_MINOR_DIGITS = 16;
/** Largest exponent accepted by the conversions (all ISO exponents are 0..4). */
const MAX_EXPONENT = 15;
/** Longest accepted amount text (string amounts and JSON number texts). */
const MAX_AMOUNT_CHARS = 64;
/** Largest |e| accepted in a JSON number exponent. */
const MAX_ABS_E = 400;
/** Most significant digits a float's shortest representation may have to be trusted as what the client typed. */
const MAX_FLOAT_SIG_DIGITS = 15;

const STRING_AMOUNT_RE = /^-?\d+(?:\.\d+)?$/;
const JSON_NUMBER_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Below this, n·10^e < 2^51 guarantees ulp(n) < 10^-e: no two minor-unit amounts can share the float. */
const UNAMBIGUOUS_SCALED_FLOAT = 2 ** 51;
const POW10_FLOAT: readonly number[] = Array.from({ length: MAX_EXPONENT + 1 }, (_, i) => 10 ** i);
const POW10: readonly bigint[] = Array.from({ length: MAX_MINOR_DIGITS + 1 }, (_, i) => 10n ** BigInt(i));

export type AmountError = 'invalid_amount' | 'amount_not_positive' | 'too_many_decimals' | 'amount_too_large';
export type AmountResult = { ok: true; minor: bigint } | { ok: false; error: AmountError; message: string };

const fail = (error: AmountError, message: string): AmountResult => ({ ok: false, error, message });

const INVALID_STRING = fail('invalid_amount', 'amount must be a plain decimal string such as "49.90"');
const INVALID_NUMBER = fail('invalid_amount', 'amount must be a finite JSON number or a decimal string');
const INVALID_EXPONENT = fail('invalid_amount', 'amount exponent is out of range; send a decimal string');
const IMPRECISE_NUMBER = fail(
  'invalid_amount',
  `amount has more than ${MAX_FLOAT_SIG_DIGITS} significant digits and may not be exact as a number; send it as a decimal string`,
);
const AMBIGUOUS_NUMBER = fail(
  'invalid_amount',
  'amount is too large to be exact to the minor unit as a JSON number; send it as a decimal string',
);
const NOT_POSITIVE = fail('amount_not_positive', 'amount must be greater than zero');
const TOO_LARGE = fail('amount_too_large', `amount exceeds the maximum of ${MAX_MINOR_UNITS} minor units`);
const TOO_MANY_DECIMALS: readonly AmountResult[] = Array.from({ length: MAX_EXPONENT + 1 }, (_, e) =>
  fail('too_many_decimals', `amount has more decimal places than the currency allows (${e})`),
);

function checkExponent(exponent: number): void {
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > MAX_EXPONENT) {
    throw new RangeError(`currency exponent must be an integer in 0..${MAX_EXPONENT}, got ${exponent}`);
  }
}

/** Significant digits (first to last non-zero digit) of a JSON number text's mantissa. */
function significantDigits(text: string): number {
  let first = -1;
  let last = -1;
  let count = 0; // digits seen so far
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 101 || c === 69) break; // 'e' | 'E'
    if (c < 48 || c > 57) continue; // '-' | '.'
    if (c !== 48) {
      if (first < 0) first = count;
      last = count;
    }
    count++;
  }
  return first < 0 ? 0 : last - first + 1;
}

/**
 * Text position of digit k of D (see parseDecimal). A module function, not a closure in parseDecimal: that would be
 * allocated, and named by tsx's keepNames helper, on every call (2.7 % of the replay path's CPU).
 */
function at(k: number, intLen: number, intStart: number, fracStart: number): number {
  return k < intLen ? intStart + k : fracStart + (k - intLen);
}

/**
 * Converts already grammar-validated decimal text (optionally with a JSON exponent) to minor units.
 * Digits D = intPart ++ fracPart; the decimal point sits after `point` digits of D (point may be < 0 or > |D|).
 */
function parseDecimal(text: string, exponent: number, allowE: boolean): AmountResult {
  const len = text.length;
  const neg = text.charCodeAt(0) === 45; /* '-' */
  const intStart = neg ? 1 : 0;
  let i = intStart;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < len && text.charCodeAt(i) === 46 /* '.' */) {
    fracStart = ++i;
    while (i < len) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      i++;
    }
    fracEnd = i;
  }
  let e10 = 0;
  if (i < len) {
    if (!allowE) return INVALID_STRING; // unreachable after STRING_AMOUNT_RE, kept as a guard
    e10 = Number(text.slice(i + 1)); // "[+-]?\d+", leading zeros allowed by JSON
    if (!(Math.abs(e10) <= MAX_ABS_E)) return INVALID_EXPONENT;
  }
  const intLen = intEnd - intStart;
  const digitCount = intLen + (fracEnd - fracStart);
  let first = 0;
  while (first < digitCount && text.charCodeAt(at(first, intLen, intStart, fracStart)) === 48) first++;
  if (first === digitCount) return NOT_POSITIVE; // zero, including "-0", "0.00", "0e5"
  let last = digitCount - 1;
  while (text.charCodeAt(at(last, intLen, intStart, fracStart)) === 48) last--;
  if (neg) return NOT_POSITIVE;
  const point = intLen + e10;
  const scale = last + 1 - point; // fractional digits up to the last non-zero one (negative: trailing integer zeros)
  if (scale > exponent) return TOO_MANY_DECIMALS[exponent]!;
  const shift = exponent - scale; // minor = int(D[first..last]) * 10^shift
  if (last - first + 1 + shift > MAX_MINOR_DIGITS) return TOO_LARGE;
  const a = at(first, intLen, intStart, fracStart);
  const b = at(last, intLen, intStart, fracStart) + 1;
  const sig = first < intLen && last >= intLen ? text.slice(a, intEnd) + text.slice(fracStart, b) : text.slice(a, b);
  const minor = BigInt(sig) * POW10[shift]!;
  return minor > MAX_MINOR_UNITS ? TOO_LARGE : { ok: true, minor };
}

/**
 * Converts an amount given in major units to minor units, exactly.
 * `amount` is what the JSON body held: a JS number or a string. `numberText` is the exact source text of a JSON number
 * (when available from our strict JSON parser); when amount is a number and numberText is given, ONLY numberText is used.
 * When amount is a number and no numberText is given, use the shortest round-trip representation (String(n)) but reject
 * (invalid_amount, message telling to send a decimal string) if that representation has more than 15 significant digits,
 * because beyond that the float may not be what the client typed. For the same reason a bare number is rejected when
 * the float cannot distinguish adjacent minor units (90071992547409.91 and 90071992547409.9 are the same double).
 * Errors decided by the float's own value (zero/negative, too many decimals, too large) take precedence over that rule.
 */
export function toMinorUnits(amount: number | string, exponent: number, numberText?: string): AmountResult {
  checkExponent(exponent);
  if (typeof amount === 'string') {
    if (amount.length === 0 || amount.length > MAX_AMOUNT_CHARS || !STRING_AMOUNT_RE.test(amount))
      return INVALID_STRING;
    return parseDecimal(amount, exponent, false);
  }
  if (typeof amount !== 'number') return INVALID_NUMBER;
  if (numberText !== undefined) {
    if (numberText.length > MAX_AMOUNT_CHARS || !JSON_NUMBER_RE.test(numberText)) return INVALID_NUMBER;
    return parseDecimal(numberText, exponent, true);
  }
  if (!Number.isFinite(amount)) return INVALID_NUMBER;
  const text = String(amount); // shortest round-trip form; String(-0) is "0"
  const result = parseDecimal(text, exponent, true);
  if (!result.ok) return result;
  if (significantDigits(text) > MAX_FLOAT_SIG_DIGITS) return IMPRECISE_NUMBER;
  return isAmbiguousFloat(amount, result.minor, exponent) ? AMBIGUOUS_NUMBER : result;
}

/**
 * True when a neighbouring minor-unit amount parses to the same float as `amount`, i.e. the float cannot tell which
 * amount the client typed (e.g. 90071992547409.91 === 90071992547409.9). The rounding interval of a float is convex,
 * so checking m-1 and m+1 suffices. Only reached for large magnitudes.
 */
function isAmbiguousFloat(amount: number, minor: bigint, exponent: number): boolean {
  if (amount * POW10_FLOAT[exponent]! < UNAMBIGUOUS_SCALED_FLOAT) return false;
  return (
    Number(formatMajorUnits(minor - 1n, exponent)) === amount ||
    Number(formatMajorUnits(minor + 1n, exponent)) === amount
  );
}

/** Minor units → the text of a JSON number in major units: exact, trailing zeros of the fraction trimmed but at least one
 *  fractional digit kept when exponent > 0 ("50.0", "49.9", "0.01", "-12.5"), no fraction when exponent is 0 ("500"). */
export function formatMajorUnits(minor: bigint, exponent: number): string {
  checkExponent(exponent);
  const neg = minor < 0n;
  const digits = (neg ? -minor : minor).toString();
  if (exponent === 0) return neg ? '-' + digits : digits;
  const padded = digits.length > exponent ? digits : '0'.repeat(exponent + 1 - digits.length) + digits;
  const split = padded.length - exponent;
  let end = padded.length;
  while (end > split + 1 && padded.charCodeAt(end - 1) === 48) end--;
  const text = padded.slice(0, split) + '.' + padded.slice(split, end);
  return neg ? '-' + text : text;
}
