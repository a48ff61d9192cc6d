import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { JsonParseError, parseStrictJson, rawNumberText } from '../../src/lib/strict-json.ts';
import type { JsonErrorReason } from '../../src/lib/strict-json.ts';

function expectError(text: string, reason: JsonErrorReason, position?: number): JsonParseError {
  let caught: unknown;
  try {
    parseStrictJson(text);
  } catch (err) {
    caught = err;
  }
  assert.ok(
    caught instanceof JsonParseError,
    `expected JsonParseError for ${JSON.stringify(text.slice(0, 60))}, got ${String(caught)}`,
  );
  assert.ok(caught instanceof Error);
  assert.equal(caught.name, 'JsonParseError');
  assert.equal(caught.reason, reason, caught.message);
  if (position !== undefined) assert.equal(caught.position, position, caught.message);
  assert.ok(caught.position >= 0 && caught.position <= text.length, caught.message);
  assert.ok(caught.message.endsWith(`at position ${caught.position}`), caught.message);
  return caught;
}

const VALID: string[] = [
  '0',
  '-0',
  '0.1',
  '1e2',
  '2E-3',
  '1E+2',
  '-12.5e10',
  '123456789012345678901234567890',
  '5e-324',
  '1e309',
  '-1e309',
  'true',
  'false',
  'null',
  '""',
  '"abc"',
  '  "padded"\t\r\n',
  String.raw`"\" \\ \/ \b \f \n \r \t"`,
  String.raw`"\u00e9\u4E2D\ud83d\ude00 mixed \u0041bc"`,
  '"é中😀 raw unicode"',
  String.raw`"\ud800 lone high, \udc00 lone low"`,
  '[]',
  '{}',
  '[ ]',
  '{ }',
  ' \t\n\r [ 1 , 2 ] \r\n',
  '{"a":{"b":[1,{"c":null}],"d":"x"},"e":[],"f":{}}',
  '[[[[]]]]',
  '[1,"two",true,false,null,{"x":[-0.5e-1]}]',
  String.raw`{"a\nb":1,"\u0061":2}`,
  '{"toString":1,"hasOwnProperty":2,"valueOf":"v"}',
  '{"amount":"12.00","currency":"EUR","meta":{"order":"A-1","tags":["x","y"]}}',
];

describe('parseStrictJson: valid documents', () => {
  for (const doc of VALID) {
    test(`matches JSON.parse for ${JSON.stringify(doc)}`, () => {
      assert.deepStrictEqual(parseStrictJson(doc), JSON.parse(doc));
    });
  }

  test('-0 keeps its sign', () => {
    assert.ok(Object.is(parseStrictJson('-0'), -0));
  });

  test('objects are plain objects', () => {
    const obj = parseStrictJson('{"a":1}');
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
  });

  test('every prefix of a valid document fails exactly when JSON.parse fails', () => {
    const doc = String.raw`{"a": [1, -2.5e+3, true, null, "x\u00e9\n"], "b": {"c": false}}`;
    for (let n = 0; n <= doc.length; n++) {
      const prefix = doc.slice(0, n);
      let expected: unknown;
      try {
        expected = JSON.parse(prefix);
      } catch {
        expectError(prefix, 'syntax');
        continue;
      }
      assert.deepStrictEqual(parseStrictJson(prefix), expected);
    }
  });
});

describe('rawNumberText', () => {
  test('keeps the exact source text of amounts', () => {
    const a = parseStrictJson('{"amount": 50.10}') as { amount: number };
    assert.equal(a.amount, 50.1);
    assert.equal(rawNumberText(a, 'amount'), '50.10');

    const b = parseStrictJson('{"amount": 90071992547409.91}') as object;
    assert.equal(rawNumberText(b, 'amount'), '90071992547409.91');
  });

  test('records nested members, exponents, -0 and non-finite values', () => {
    const doc = parseStrictJson('{"p":{"amount":1e2,"currency":"EUR"},"z":-0,"big":1e309,"neg":-1E400}') as {
      p: object;
      big: number;
      neg: number;
    };
    assert.equal(rawNumberText(doc.p, 'amount'), '1e2');
    assert.equal(rawNumberText(doc.p, 'currency'), undefined);
    assert.equal(rawNumberText(doc, 'p'), undefined);
    assert.equal(rawNumberText(doc, 'z'), '-0');
    assert.equal(doc.big, Infinity);
    assert.equal(rawNumberText(doc, 'big'), '1e309');
    assert.equal(doc.neg, -Infinity);
    assert.equal(rawNumberText(doc, 'neg'), '-1E400');
  });

  test('is undefined for missing keys, inherited names and foreign objects', () => {
    const doc = parseStrictJson('{"amount":1}') as object;
    assert.equal(rawNumberText(doc, 'missing'), undefined);
    assert.equal(rawNumberText(doc, 'toString'), undefined);
    assert.equal(rawNumberText(JSON.parse('{"amount":1}') as object, 'amount'), undefined);
    assert.equal(rawNumberText(parseStrictJson('{}') as object, 'amount'), undefined);
  });
});

describe('duplicate keys', () => {
  test('rejected with the position of the second key', () => {
    const err = expectError('{"a":1,"a":2}', 'duplicate_key', 7);
    assert.match(err.message, /^Duplicate key "a" at position 7$/);
  });

  test('rejected when nested, or spelled with an escape', () => {
    expectError('{"a":1,"b":{"c":1,"c":{}}}', 'duplicate_key', 18);
    expectError(String.raw`{"amount":1,"\u0061mount":2}`, 'duplicate_key', 12);
    expectError('[{"x":[],"x":null}]', 'duplicate_key', 9);
  });

  test('same key in sibling objects is fine', () => {
    assert.deepStrictEqual(parseStrictJson('[{"a":1},{"a":2}]'), [{ a: 1 }, { a: 2 }]);
  });
});

describe('forbidden keys', () => {
  const cases: Array<[string, number]> = [
    ['{"__proto__":{"polluted":true}}', 1],
    ['{"constructor":{"prototype":{}}}', 1],
    ['{"prototype":1}', 1],
    ['{"a":{"b":[{"ok":1,"__proto__":1}]}}', 19],
    [String.raw`{"__pro\u0074o__":{"polluted":true}}`, 1],
    [String.raw`{"\u0063onstructor":1}`, 1],
  ];
  for (const [doc, position] of cases) {
    test(`rejects ${doc}`, () => {
      expectError(doc, 'forbidden_key', position);
      assert.equal((Object.prototype as Record<string, unknown>)['polluted'], undefined);
    });
  }
});

describe('nesting depth', () => {
  test('100,000 [ fails with too_deep, not a stack overflow', () => {
    expectError('['.repeat(100_000), 'too_deep', 32);
    expectError('{"a":'.repeat(100_000), 'too_deep', 32 * 5);
  });

  test('default limit is 32 levels', () => {
    const ok = '['.repeat(32) + ']'.repeat(32);
    assert.deepStrictEqual(parseStrictJson(ok), JSON.parse(ok));
    expectError('['.repeat(33) + ']'.repeat(33), 'too_deep', 32);
  });

  test('maxDepth option', () => {
    assert.deepStrictEqual(parseStrictJson('[1]', { maxDepth: 1 }), [1]);
    assert.throws(
      () => parseStrictJson('[[1]]', { maxDepth: 1 }),
      (e) => e instanceof JsonParseError && e.reason === 'too_deep' && e.position === 1,
    );
    assert.equal(parseStrictJson('7', { maxDepth: 0 }), 7);
    assert.throws(() => parseStrictJson('{}', { maxDepth: 0 }), JsonParseError);
  });

  test('the parser itself is iterative (deep input within a raised limit)', () => {
    const n = 100_000;
    const doc = '['.repeat(n) + ']'.repeat(n);
    let v = parseStrictJson(doc, { maxDepth: n });
    let depth = 0;
    while (Array.isArray(v) && v.length > 0) {
      v = v[0];
      depth++;
    }
    assert.equal(depth, n - 1);
  });
});

describe('invalid documents', () => {
  // [document, position where the problem is found]
  const INVALID: Array<[string, number]> = [
    ['', 0],
    ['   ', 3],
    ['[1,2,]', 5],
    ['{"a":1,}', 7],
    ["{'a':1}", 1],
    ["'a'", 0],
    ['{"a":1 /* c */}', 7],
    ['// c\n1', 0],
    ['01', 1],
    ['-01', 2],
    ['00', 1],
    ['+1', 0],
    ['1.', 2],
    ['1.e5', 2],
    ['.5', 0],
    ['1e', 2],
    ['1e+', 3],
    ['-', 1],
    ['- 1', 1],
    ['NaN', 0],
    ['Infinity', 0],
    ['-Infinity', 1],
    ['0x10', 1],
    ['"a\nb"', 2],
    ['"a\tb"', 2],
    ['"\u0000"', 1],
    ['"\u001f"', 1],
    [String.raw`"\x"`, 2],
    [String.raw`"\u12G4"`, 5],
    [String.raw`"\u12"`, 5],
    [String.raw`"\'"`, 2],
    ['"abc', 4],
    [String.raw`"abc\"`, 6],
    ['\uFEFF{}', 0],
    ['{} x', 3],
    ['{}{}', 2],
    ['1 2', 2],
    ['{"a":', 5],
    ['{"a"', 4],
    ['{"a":1', 6],
    ['[', 1],
    ['{', 1],
    ['[1', 2],
    ['tru', 0],
    ['nul', 0],
    ['True', 0],
    ['[1 2]', 3],
    ['{"a" 1}', 5],
    ['{1:2}', 1],
    ['{a:1}', 1],
    ['\u00a01', 0],
    ['\f1', 0],
    ['\v1', 0],
    ['[1]]', 3],
    ['{"a":1]', 6],
    ['[1}', 2],
    ['undefined', 0],
    ['[,1]', 1],
    ['{,}', 1],
    ['"\u2028" x', 4],
  ];
  for (const [doc, position] of INVALID) {
    test(`rejects ${JSON.stringify(doc)} at ${position}`, () => {
      assert.throws(() => JSON.parse(doc), SyntaxError, 'sanity: JSON.parse rejects it too');
      expectError(doc, 'syntax', position);
    });
  }

  test('a BOM gets its own message', () => {
    assert.match(expectError('\uFEFF{}', 'syntax', 0).message, /Byte order mark/);
  });
});

describe('error messages', () => {
  test('never echo more than 40 characters of the input', () => {
    const long = 'x'.repeat(1000);
    const docs = [
      `{"${long}":1,"${long}":2}`,
      `{"a":1}${long}`,
      `"${long}`,
      `[${long}]`,
      `{"a":1,"b":2}`.replace('1', `"${long}\u0001"`),
    ];
    for (const doc of docs) {
      let message = '';
      try {
        parseStrictJson(doc);
      } catch (err) {
        assert.ok(err instanceof JsonParseError);
        message = err.message;
      }
      assert.ok(message.length > 0, `should have failed: ${doc.slice(0, 50)}`);
      assert.ok(!message.includes('x'.repeat(41)), message);
      assert.ok(message.length < 120, message);
    }
  });
});
