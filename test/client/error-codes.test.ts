// ERRORS (src/lib/errors.ts) is the only list of codes: the client's list must be exactly the server's, so a code
// added on the server without the client learning it fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_ERROR_CODES, CLIENT_ERROR_CODES } from '../../packages/client/src/index.ts';
import { ERROR_CODES } from '../../src/lib/errors.ts';

test("the client's API error codes are exactly the server's error table, in its order", () => {
  assert.deepEqual([...API_ERROR_CODES], [...ERROR_CODES]);
});

test("the client's own codes never collide with the server's", () => {
  for (const code of CLIENT_ERROR_CODES) assert.ok(!(ERROR_CODES as readonly string[]).includes(code), code);
});
