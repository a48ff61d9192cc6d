import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CURRENCY_EXPONENTS } from '../../src/lib/money.ts';
import {
  ISO_EXPONENTS,
  minorByExponent,
  refundAmountError,
  toRefundAmount,
  type RefundAmount,
} from '../../src/payments/refund-amount.ts';
import { toInstant } from '../../src/lib/timestamp.ts';

const amount = (value: number | string, text?: string): RefundAmount => {
  const result = toRefundAmount(value, text);
  assert.ok(!('field' in result), 'field' in result ? result.message : '');
  return result;
};

describe('refund amounts (currency known only to the database)', () => {
  test('ISO_EXPONENTS covers every exponent in the currency table', () => {
    for (const [code, exponent] of Object.entries(CURRENCY_EXPONENTS))
      assert.ok(ISO_EXPONENTS.includes(exponent), code);
    assert.equal(Math.max(...Object.values(CURRENCY_EXPONENTS)), ISO_EXPONENTS[ISO_EXPONENTS.length - 1]);
  });

  test('every spelling of a value has one canonical text; different values differ', () => {
    const same = [
      amount('12.5'),
      amount('12.50'),
      amount(12.5, '12.5'),
      amount(12.5, '12.500'),
      amount(12.5, '1.25e1'),
    ];
    assert.deepEqual(new Set(same.map((a) => a.canonical)), new Set(['12.5']));
    assert.equal(amount('12').canonical, amount('12.00').canonical);
    assert.notEqual(amount('12').canonical, amount('1.2').canonical);
    assert.notEqual(amount('12').canonical, amount('120').canonical);
  });

  test('minor units at each exponent, null where the amount does not fit', () => {
    assert.deepEqual(minorByExponent(amount('12.5')), [null, 125n, 1250n, 12500n, 125000n]);
    assert.deepEqual(minorByExponent(amount('9007199254740991')), [9007199254740991n, null, null, null, null]);
    assert.deepEqual(minorByExponent(amount('0.0001')), [null, null, null, null, 1n]);
  });

  test('an amount invalid for every currency is rejected without the database', () => {
    for (const [value, code] of [
      ['0', 'amount_not_positive'],
      ['-1', 'amount_not_positive'],
      ['abc', 'invalid_amount'],
      ['9007199254740992', 'amount_too_large'],
    ] as const) {
      const result = toRefundAmount(value, undefined);
      assert.ok('field' in result, value);
      assert.equal(result.code, code, value);
    }
  });

  test("an amount that fits no currency for currency-dependent reasons is left to the charge's currency", () => {
    const unfit = amount('1.00001');
    assert.deepEqual(minorByExponent(unfit), [null, null, null, null, null]);
    assert.match(refundAmountError(unfit, 2).message, /currency allows \(2\)/);
    assert.equal(refundAmountError(amount('1.5'), 0).code, 'too_many_decimals');
    assert.throws(() => refundAmountError(amount('1.5'), 2));
  });
});

describe('toInstant', () => {
  test('RFC 3339 date-times become UTC instants at millisecond precision', () => {
    assert.equal(toInstant('2024-01-01T05:30:00+05:30'), '2024-01-01T00:00:00.000Z');
    assert.equal(toInstant('2024-01-01T00:00:00.123999Z'), '2024-01-01T00:00:00.123Z');
    assert.equal(toInstant('2024-01-01t00:00:00z'), '2024-01-01T00:00:00.000Z');
  });
  test('what PostgreSQL would refuse is undefined', () => {
    for (const text of [
      '2016-12-31T23:59:60Z',
      '0000-01-01T00:00:00Z',
      '0001-01-01T00:00:00+01:00',
      '9999-12-31T23:59:59-10:00',
      'nope',
    ]) {
      assert.equal(toInstant(text), undefined, text);
    }
  });
});
