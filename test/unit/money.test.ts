import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import {
  CURRENCY_EXPONENTS,
  MAX_MINOR_UNITS,
  currencyExponent,
  formatMajorUnits,
  toMinorUnits,
  type AmountError,
} from '../../src/lib/money.ts';

const exp = (code: string): number => {
  const e = currencyExponent(code);
  assert.notEqual(e, undefined, `unknown currency ${code}`);
  return e!;
};

describe('currency table', () => {
  test('known exponents', () => {
    const expected: Record<string, number> = {
      USD: 2,
      EUR: 2,
      GBP: 2,
      JPY: 0,
      KWD: 3,
      BHD: 3,
      JOD: 3,
      OMR: 3,
      TND: 3,
      LYD: 3,
      IQD: 3,
      CLF: 4,
      UYW: 4,
      ISK: 0,
      KRW: 0,
      VND: 0,
      CLP: 0,
      XAF: 0,
      XOF: 0,
      XPF: 0,
      PYG: 0,
      UGX: 0,
      CHF: 2,
      ZWG: 2,
      XCG: 2,
      SLE: 2,
      VED: 2,
    };
    for (const [code, e] of Object.entries(expected)) assert.equal(currencyExponent(code), e, code);
  });
  test('excludes codes without a minor unit and withdrawn codes', () => {
    for (const code of [
      'XAU',
      'XAG',
      'XPT',
      'XPD',
      'XDR',
      'XBA',
      'XBB',
      'XBC',
      'XBD',
      'XSU',
      'XUA',
      'XTS',
      'XXX',
      'HRK',
    ]) {
      assert.equal(currencyExponent(code), undefined, code);
      assert.equal(Object.hasOwn(CURRENCY_EXPONENTS, code), false, code);
    }
  });
  test('exact uppercase 3-letter codes only', () => {
    for (const code of ['usd', 'Usd', 'USDX', 'US', '', ' USD', 'USD ', 'toString', 'constructor', '__proto__']) {
      assert.equal(currencyExponent(code), undefined, JSON.stringify(code));
    }
  });
  test('frozen, well-formed table', () => {
    assert.ok(Object.isFrozen(CURRENCY_EXPONENTS));
    assert.throws(() => {
      (CURRENCY_EXPONENTS as Record<string, number>).USD = 3;
    }, TypeError);
    const codes = Object.keys(CURRENCY_EXPONENTS);
    assert.ok(codes.length >= 150, `only ${codes.length} currencies`);
    for (const code of codes) {
      assert.match(code, /^[A-Z]{3}$/);
      assert.ok([0, 2, 3, 4].includes(CURRENCY_EXPONENTS[code]!), code);
    }
  });
  test('MAX_MINOR_UNITS is 2^53-1', () => {
    assert.equal(MAX_MINOR_UNITS, 9007199254740991n);
    assert.equal(MAX_MINOR_UNITS, BigInt(Number.MAX_SAFE_INTEGER));
  });
});

type Row = [currency: string, amount: number | string, expected: bigint | AmountError, numberText?: string];

const rows: Row[] = [
  ['USD', '0.01', 1n],
  ['USD', '49.90', 4990n],
  ['USD', 49.9, 4990n],
  ['USD', 0.1 + 0.2, 'too_many_decimals'],
  ['USD', '50', 5000n],
  ['USD', 50, 5000n],
  ['USD', '50.000', 5000n],
  ['USD', '007.50', 750n],
  ['USD', '0.001', 'too_many_decimals'],
  ['USD', '49.999', 'too_many_decimals'],
  ['USD', 1e2, 10000n],
  ['USD', 100, 10000n, '1e2'],
  ['USD', 0.25, 25n, '2.5E-1'],
  ['USD', 5, 500n, '5e+0'],
  ['USD', 5, 500n, '500e-2'],
  ['USD', 0.05, 5n, '0.05000e0'],
  ['USD', 5e-7, 'too_many_decimals'],
  ['USD', '1e2', 'invalid_amount'],
  ['USD', '-5', 'amount_not_positive'],
  ['USD', '-0', 'amount_not_positive'],
  ['USD', '-0.001', 'amount_not_positive'],
  ['USD', '0.00', 'amount_not_positive'],
  ['USD', -0, 'amount_not_positive'],
  ['USD', 0, 'amount_not_positive'],
  ['USD', -5, 'amount_not_positive'],
  ['USD', 0, 'amount_not_positive', '-0.0e5'],
  ['USD', '', 'invalid_amount'],
  ['USD', ' 5', 'invalid_amount'],
  ['USD', '5 ', 'invalid_amount'],
  ['USD', '+5', 'invalid_amount'],
  ['USD', '5.', 'invalid_amount'],
  ['USD', '.5', 'invalid_amount'],
  ['USD', '1,000', 'invalid_amount'],
  ['USD', '1_000', 'invalid_amount'],
  ['USD', '0x10', 'invalid_amount'],
  ['USD', '٥', 'invalid_amount'], // non-ASCII digit
  ['USD', 'NaN', 'invalid_amount'],
  ['USD', 'Infinity', 'invalid_amount'],
  ['USD', NaN, 'invalid_amount'],
  ['USD', Infinity, 'invalid_amount'],
  ['USD', -Infinity, 'invalid_amount'],
  ['USD', '1'.repeat(65), 'invalid_amount'],
  ['USD', '0'.repeat(60) + '1', 1n * 100n],
  ['USD', 5, 'invalid_amount', '05'], // JSON grammar: no leading zeros
  ['USD', 5, 'invalid_amount', '+5'],
  ['USD', 5, 'invalid_amount', '5.'],
  ['USD', 1e308 * 10, 'amount_too_large', '1e309'],
  ['USD', 0, 'too_many_decimals', '1e-400'],
  ['USD', 1, 'invalid_amount', '1e401'],
  ['USD', 1, 'invalid_amount', '1e-401'],
  ['USD', 1e21, 'amount_too_large'],
  ['USD', 1.5e300, 'amount_too_large'],
  ['USD', '90071992547409.91', 9007199254740991n],
  ['USD', '90071992547409.92', 'amount_too_large'],
  ['USD', 90071992547409.9, 9007199254740991n, '90071992547409.91'],
  ['USD', 90071992547409.91, 'invalid_amount'], // same double as 90071992547409.9: ambiguous as a bare float
  ['USD', 90071992547409.9, 'invalid_amount'],
  ['USD', 90071992547409.92, 'amount_too_large'],
  ['USD', 80000000000000.1, 'invalid_amount'], // 15 digits, but 80000000000000.09 is the same double
  ['USD', 22517998136852.5, 2251799813685250n], // 15 digits, cents still distinct doubles
  ['USD', 4503599627370.49, 450359962737049n], // 15 significant digits
  ['USD', 45035996273704.97, 'invalid_amount'], // 16 significant digits
  ['USD', 1234567890123.45, 123456789012345n], // exactly 15 significant digits
  ['JPY', '500', 500n],
  ['JPY', '500.0', 500n],
  ['JPY', 500, 500n],
  ['JPY', '0.5', 'too_many_decimals'],
  ['JPY', '9007199254740991', 9007199254740991n],
  ['JPY', '9007199254740992', 'amount_too_large'],
  ['JPY', 2 ** 53 + 1, 'amount_too_large'],
  ['JPY', 2 ** 53 - 1, 'invalid_amount'], // 16 significant digits: must be sent as a string
  ['JPY', 2 ** 53 - 1, 9007199254740991n, '9007199254740991'],
  ['JPY', 1e15, 1000000000000000n],
  ['JPY', 5e15, 5000000000000000n], // ulp is 1: integers are still distinct floats
  ['KWD', '1.234', 1234n],
  ['KWD', 1.234, 1234n],
  ['KWD', '1.2345', 'too_many_decimals'],
  ['KWD', '0.001', 1n],
  ['KWD', '9007199254740.991', 9007199254740991n],
  ['CLF', '1.2345', 12345n],
  ['CLF', '0.0001', 1n],
  ['CLF', '0.00001', 'too_many_decimals'],
  ['CLF', 12.5, 125000n],
];

describe('toMinorUnits', () => {
  for (const [currency, amount, expected, numberText] of rows) {
    const label =
      `${currency} ${typeof amount === 'string' ? JSON.stringify(amount) : String(amount)}` +
      (numberText === undefined ? '' : ` (text ${numberText})`) +
      ` → ${String(expected)}`;
    test(label, () => {
      const result = toMinorUnits(amount, exp(currency), numberText);
      if (typeof expected === 'bigint') {
        assert.deepEqual(result, { ok: true, minor: expected });
      } else {
        assert.equal(result.ok, false);
        if (!result.ok) {
          assert.equal(result.error, expected);
          assert.ok(result.message.length > 0);
        }
      }
    });
  }

  test('messages name the rule', () => {
    const r = toMinorUnits('49.999', 2);
    assert.ok(!r.ok && r.message.includes('(2)'), inspect(r));
    const f = toMinorUnits(90071992547409.91, 2);
    assert.ok(!f.ok && /string/.test(f.message), inspect(f));
  });

  test('numberText takes precedence over the number value', () => {
    assert.deepEqual(toMinorUnits(1, 2, '2'), { ok: true, minor: 200n });
    assert.deepEqual(toMinorUnits(NaN, 2, '0.5'), { ok: true, minor: 50n });
  });

  test('rejects non-number, non-string input at runtime', () => {
    for (const bad of [null, undefined, true, {}, [], 5n]) {
      const r = toMinorUnits(bad as number, 2);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error, 'invalid_amount');
    }
  });

  test('rejects an invalid exponent argument', () => {
    for (const e of [-1, 1.5, NaN, 16]) assert.throws(() => toMinorUnits('1', e), RangeError);
  });
});

describe('formatMajorUnits', () => {
  const cases: [bigint, number, string][] = [
    [4990n, 2, '49.9'],
    [5000n, 2, '50.0'],
    [1n, 2, '0.01'],
    [500n, 0, '500'],
    [1n, 3, '0.001'],
    [1234567n, 3, '1234.567'],
    [0n, 2, '0.0'],
    [0n, 0, '0'],
    [-1250n, 2, '-12.5'],
    [-1n, 4, '-0.0001'],
    [-500n, 0, '-500'],
    [10n, 1, '1.0'],
    [9007199254740991n, 2, '90071992547409.91'],
  ];
  for (const [minor, e, text] of cases) {
    test(`(${minor}n, ${e}) → ${text}`, () => {
      assert.equal(formatMajorUnits(minor, e), text);
      assert.doesNotThrow(() => JSON.parse(text));
    });
  }
});

/** Deterministic 64-bit PRNG (splitmix64) so failures are reproducible. */
function* randomMinors(seed: bigint, count: number): Generator<bigint> {
  const mask = (1n << 64n) - 1n;
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (state + 0x9e3779b97f4a7c15n) & mask;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
    z ^= z >> 31n;
    // Mix magnitudes: scale down by a random number of digits so small amounts are covered too.
    const digits = z % 16n;
    yield ((z >> 4n) % (MAX_MINOR_UNITS / 10n ** digits)) + 1n;
  }
}

const sigDigits = (text: string): number => text.replace(/^-|\./g, '').replace(/^0+/, '').replace(/0+$/, '').length;

describe('round trip', () => {
  const edges = [1n, 9n, 10n, 99n, 100n, 12345n, 10n ** 15n, MAX_MINOR_UNITS - 1n, MAX_MINOR_UNITS];
  const minors = [...edges, ...randomMinors(0x5eedn, 2000)];
  for (let e = 0; e <= 4; e++) {
    test(`exponent ${e}: string and number inputs`, () => {
      let numberChecks = 0;
      for (const m of minors) {
        assert.ok(m >= 1n && m <= MAX_MINOR_UNITS);
        const text = formatMajorUnits(m, e);
        assert.deepEqual(toMinorUnits(text, e), { ok: true, minor: m }, text);
        assert.deepEqual(toMinorUnits(Number(text), e, text), { ok: true, minor: m }, `numberText ${text}`);
        if (sigDigits(text) <= 15) {
          // A bare float is only trusted when no adjacent minor-unit amount maps to the same double.
          const n = Number(text);
          const ambiguous = Number(formatMajorUnits(m - 1n, e)) === n || Number(formatMajorUnits(m + 1n, e)) === n;
          const r = toMinorUnits(n, e);
          if (ambiguous) {
            assert.ok(!r.ok && r.error === 'invalid_amount', `ambiguous number ${text}`);
          } else {
            numberChecks++;
            assert.deepEqual(r, { ok: true, minor: m }, `number ${text}`);
          }
        }
      }
      assert.ok(numberChecks > 100, `only ${numberChecks} number checks`);
    });
  }
});
