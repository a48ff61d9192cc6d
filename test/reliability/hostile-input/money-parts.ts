// Scenario 13's money parts: the fixture's seed balances, amount spellings (valid, bad, type-confused, over the
// balance) and currencies (valid, unknown, unsupported, type-confused).
import fc from 'fast-check';
import type { FieldPart } from './body-parts.ts';
import { type JNode, raw } from './json-model.ts';
import { HOSTILE_STRINGS } from './strings.ts';

/** What the fixture user starts with (major units as sent, minor units as checked). */
export const SEED_BALANCES = { USD: '1000000.00', JPY: '100000000', KWD: '1000000.000' } as const;
export const SEED_MINOR: Readonly<Record<string, number>> = { USD: 100_000_000, JPY: 100_000_000, KWD: 1_000_000_000 };
const EXPONENT: Readonly<Record<string, number>> = { USD: 2, JPY: 0, KWD: 3, EUR: 2 };

export interface MoneyPart extends FieldPart {
  readonly currency?: JNode;
  readonly currencyFault?: string;
  readonly intended?: { readonly currency: string; readonly minor: number };
}

export function formatMajor(minor: number, exponent: number): string {
  const digits = String(minor).padStart(exponent + 1, '0');
  return exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** Spellings of exactly `minor` minor units, as a JSON number or a decimal string. */
function amountSpellings(minor: number, exponent: number): string[] {
  const major = formatMajor(minor, exponent);
  const trimmed = exponent === 0 ? major : major.replace(/\.?0+$/, '');
  const padded = exponent === 0 ? `${major}.00` : `${major}00`;
  return [
    JSON.stringify(major),
    major,
    JSON.stringify(trimmed),
    trimmed,
    JSON.stringify(padded),
    padded,
    JSON.stringify(`00${major}`),
    `${minor}e-${exponent}`,
    `${minor}0E-${exponent + 1}`,
    `${minor}E-0${exponent}`,
  ];
}

/** Invalid for every exponent 0..3 (too many decimals, zero, negative, too large, not a number, bad text). */
const BAD_AMOUNTS = [
  '0.30000000000000004',
  '"0.30000000000000004"',
  '0.0001',
  '"0.0001"',
  '1.23456',
  '1e309',
  '-1e309',
  '1e-400',
  '1e401',
  '1E400',
  '9007199254740993',
  '"9007199254740993"',
  '90071992547409.92',
  '"90071992547409.92"',
  '123456789012345678',
  '0',
  '-0',
  '"0"',
  '"-0"',
  '"0.000"',
  '0e5',
  '0.0',
  '-1',
  '"-1.00"',
  '-0.01',
  '"-0.01"',
  '"NaN"',
  '"Infinity"',
  '"-Infinity"',
  '"1e2"',
  '"0x10"',
  '" 1"',
  '"1 "',
  '"1,00"',
  '"1."',
  '".5"',
  '"+1"',
  '"١٢"',
  '"１"',
  '"12.34.56"',
  '"--1"',
  '""',
  '"1_000"',
  '"1\\u0000"',
  `1${'0'.repeat(70)}`,
  `"${'9'.repeat(65)}"`,
  '"\\u0031\\u002e\\u0030\\u0030\\u0030\\u0031"',
] as const;
const AMOUNT_TYPE_CONFUSION = ['true', 'false', 'null', '[]', '{}', '[1]', '{"value":"1.00"}', '["1.00"]'] as const;
const UNKNOWN_CURRENCIES = [
  'XYZ',
  'usd',
  'Usd',
  'US',
  'USDD',
  '',
  'USD ',
  ' USD',
  'XAU',
  'XTS',
  'HRK',
  'ÜSD',
  'U$D',
  'ＵＳＤ',
  'JPY;',
  "'; DROP TABLE users; --",
  "USD' OR '1'='1",
  'USD\u0000',
  '%',
  '_',
] as const;
const CURRENCY_TYPE_CONFUSION = ['840', 'null', 'true', '["USD"]', '{"code":"USD"}', '1e309', '-0'] as const;
const INSUFFICIENT: Readonly<Record<string, readonly string[]>> = {
  USD: ['"5000000.00"', '5000000', '1000000.01'],
  JPY: ['500000000', '"100000001"'],
  KWD: ['"5000000.000"', '1000000.001'],
};

const validCurrency = fc.constantFrom('USD', 'USD', 'JPY', 'KWD');

export function moneyPart(): fc.Arbitrary<MoneyPart> {
  const cur = (c: string): JNode => raw(JSON.stringify(c));
  return fc.oneof(
    {
      weight: 14,
      arbitrary: fc
        .record({ currency: validCurrency, minor: fc.integer({ min: 1, max: 5000 }), form: fc.nat() })
        .map(({ currency, minor, form }): MoneyPart => {
          const spellings = amountSpellings(minor, EXPONENT[currency]!);
          return {
            label: 'ok',
            node: raw(spellings[form % spellings.length]!),
            currency: cur(currency),
            intended: { currency, minor },
          };
        }),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({
          currency: validCurrency,
          minor: fc.integer({ min: 1, max: 5000 }),
          extra: fc.integer({ min: 1, max: 3 }),
          last: fc.integer({ min: 1, max: 9 }),
          quoted: fc.boolean(),
        })
        .map(({ currency, minor, extra, last, quoted }): MoneyPart => {
          const text = formatMajor(minor * 10 ** extra + last, EXPONENT[currency]! + extra);
          return {
            label: 'amount:too-many-decimals',
            node: raw(quoted ? JSON.stringify(text) : text),
            currency: cur(currency),
            fault: 'amount',
          };
        }),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({ currency: validCurrency, text: fc.constantFrom(...BAD_AMOUNTS) })
        .map(({ currency, text }): MoneyPart => ({
          label: 'amount:bad-number',
          node: raw(text),
          currency: cur(currency),
          fault: 'amount',
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ currency: validCurrency, s: fc.constantFrom(...HOSTILE_STRINGS) })
        .map(({ currency, s }): MoneyPart => ({
          label: 'amount:sql',
          node: raw(JSON.stringify(s)),
          currency: cur(currency),
          fault: 'amount',
        })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ currency: validCurrency, text: fc.constantFrom(...AMOUNT_TYPE_CONFUSION) })
        .map(({ currency, text }): MoneyPart => ({
          label: 'amount:type-confusion',
          node: raw(text),
          currency: cur(currency),
          fault: 'amount',
        })),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(...UNKNOWN_CURRENCIES).map((c): MoneyPart => ({
        label: 'currency:unknown',
        node: raw('"1.00"'),
        currency: cur(c),
        currencyFault: 'currency',
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ c: fc.constantFrom(...CURRENCY_TYPE_CONFUSION), a: fc.constantFrom(...AMOUNT_TYPE_CONFUSION) })
        .map(({ c, a }): MoneyPart => ({
          label: 'currency:type-confusion',
          node: raw(a),
          currency: raw(c),
          fault: 'amount',
          currencyFault: 'currency',
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('amount', 'currency')
        .map((missing): MoneyPart =>
          missing === 'amount'
            ? { label: 'amount:missing', currency: cur('USD'), fault: 'amount' }
            : { label: 'currency:missing', node: raw('"1.00"'), currencyFault: 'currency' },
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ minor: fc.integer({ min: 1, max: 5000 }), form: fc.nat() })
        .map(({ minor, form }): MoneyPart => {
          const spellings = amountSpellings(minor, 2);
          return {
            label: 'business:currency_not_supported',
            node: raw(spellings[form % spellings.length]!),
            currency: cur('EUR'),
            business: 'currency_not_supported',
          };
        }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ currency: validCurrency, form: fc.nat() }).map(({ currency, form }): MoneyPart => {
        const options = INSUFFICIENT[currency]!;
        return {
          label: 'business:insufficient_balance',
          node: raw(options[form % options.length]!),
          currency: cur(currency),
          business: 'insufficient_balance',
        };
      }),
    },
  );
}
