// The client's hand-written types against the server's own OpenAPI document. contract.ts ties each type to a
// runtime description at compile time; this test ties those descriptions to /openapi.json, so renaming, retyping,
// adding a required field or removing a field on either side fails here (one line per disagreement).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTES, type RouteContract } from '../../packages/client/src/index.ts';
import { startApp } from '../helpers/app.ts';
import { checkRoute, type OpenApiDocument, type Schema } from '../helpers/openapi-contract.ts';

const { app } = await startApp();
const res = await app.inject({ method: 'GET', url: '/openapi.json' });
assert.equal(res.statusCode, 200);
const doc = res.json<OpenApiDocument>();

describe('the client matches /openapi.json', () => {
  for (const [name, route] of Object.entries(ROUTES) as [keyof typeof ROUTES, RouteContract][]) {
    // A route missing from the document fails here (checkRoute reports it): no route is skipped.
    test(`${name}: ${route.method} ${route.path}`, (t) => {
      const notes: string[] = [];
      assert.deepEqual(checkRoute(doc, route, notes), []);
      // Not drift (the client need not surface every optional field), but a hint that the types could grow.
      for (const note of notes) t.diagnostic(note);
    });
  }
});

// The check itself must notice drift, or a passing test above proves nothing.
describe('the drift check detects', () => {
  const clone = (): OpenApiDocument => structuredClone(doc);
  const moneyResponse = (d: OpenApiDocument): Schema =>
    d.paths['/charge']!.post!.responses!['200']!.content!['application/json']!.schema!;
  const chargeBody = (d: OpenApiDocument): Schema =>
    d.paths['/charge']!.post!.requestBody!.content!['application/json']!.schema!;
  const rename = (object: Schema, from: string, to: string): void => {
    object.properties![to] = object.properties![from]!;
    delete object.properties![from];
    object.required = object.required?.map((n) => (n === from ? to : n));
  };
  const route: RouteContract = ROUTES.chargesCreate;

  test('a response field renamed by the server', () => {
    const d = clone();
    rename(moneyResponse(d), 'new_balance_minor', 'balance_minor');
    assert.deepEqual(checkRoute(d, route), [
      'POST /charge 200.new_balance_minor: the client declares it, the server schema has no such field',
      'POST /charge 200.balance_minor: the server always sends it, the client type lacks it',
    ]);
  });

  test('a response field renamed by the client', () => {
    const { new_balance_minor, ...rest } = route.response.fields!;
    const renamed: RouteContract = {
      ...route,
      response: { ...route.response, fields: { ...rest, balance_minor: new_balance_minor! } },
    };
    assert.deepEqual(checkRoute(doc, renamed), [
      'POST /charge 200.balance_minor: the client declares it, the server schema has no such field',
      'POST /charge 200.new_balance_minor: the server always sends it, the client type lacks it',
    ]);
  });

  test('a request field renamed, types changed, a null or enum value added, an optional field made required', () => {
    const d = clone();
    rename(chargeBody(d), 'user_id', 'customer_id');
    chargeBody(d).required!.push('description');
    const transaction = moneyResponse(d).properties!.transaction!;
    transaction.properties!.amount_minor = { type: 'string' };
    transaction.properties!.id = { type: 'number' };
    transaction.properties!.currency = { type: 'string', nullable: true };
    transaction.properties!.status = { type: 'string', enum: ['completed', 'pending'] };
    assert.deepEqual(checkRoute(d, route), [
      'POST /charge body.user_id: the client sends it, the server schema has no such field',
      'POST /charge body.description: the server requires it, the client type makes it optional',
      'POST /charge body.customer_id: the server requires it, the client type lacks it',
      'POST /charge 200.transaction.id: the client declares an integer, the server a number',
      'POST /charge 200.transaction.amount_minor: the server may send string, the client type allows number',
      'POST /charge 200.transaction.currency: the server may send null, the client type allows string',
      'POST /charge 200.transaction.status: the server may send "pending", the client type lacks it',
    ]);
  });

  test('a route or its Idempotency-Key header removed', () => {
    const d = clone();
    const post = d.paths['/charge']!.post!;
    post.parameters = post.parameters!.filter((p) => p.name !== 'idempotency-key');
    assert.deepEqual(checkRoute(d, route), [
      'POST /charge: the client sends Idempotency-Key, the server does not declare it',
    ]);
    delete d.paths['/charge'];
    assert.deepEqual(checkRoute(d, route), ['POST /charge: not in the OpenAPI document']);
  });

  test('a new optional server field is a note, not drift; a new required one is drift', () => {
    const d = clone();
    moneyResponse(d).properties!.fee_minor = { type: 'integer' };
    const notes: string[] = [];
    assert.deepEqual(checkRoute(d, route, notes), []);
    assert.deepEqual(notes, [
      'POST /charge 200.fee_minor: the server may send it, the client type does not declare it',
    ]);
    moneyResponse(d).required!.push('fee_minor');
    assert.deepEqual(checkRoute(d, route), [
      'POST /charge 200.fee_minor: the server always sends it, the client type lacks it',
    ]);
  });

  test('a query parameter renamed', () => {
    const d = clone();
    const get = d.paths['/users/{id}/transactions']!.get!;
    get.parameters = get.parameters!.map((p) => (p.name === 'cursor' ? { ...p, name: 'after' } : p));
    assert.deepEqual(checkRoute(d, ROUTES.usersTransactions), [
      'GET /users/{id}/transactions query.cursor: the client sends it, the server schema has no such field',
    ]);
  });
});
