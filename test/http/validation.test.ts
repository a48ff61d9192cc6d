import { test } from 'node:test';
import { chargeRequest, createUser, KEYS, startApp } from '../helpers/app.ts';

const { app } = await startApp();
const user = await createUser(app, { USD: 100, JPY: 1000, KWD: '1.000' });
const id = user.id;
const raw = (t: string) => t.replaceAll('ID', String(id));
const cases: [string, string][] = [
  ['49.999', raw('{"user_id":ID,"amount":"49.999","currency":"USD"}')],
  ['1.5jpy', raw('{"user_id":ID,"amount":1.5,"currency":"JPY"}')],
  ['kwd', raw('{"user_id":ID,"amount":"0.0001","currency":"KWD"}')],
  ['zero', raw('{"user_id":ID,"amount":0,"currency":"USD"}')],
  ['-0', raw('{"user_id":ID,"amount":-0,"currency":"USD"}')],
  ['1e309', raw('{"user_id":ID,"amount":1e309,"currency":"USD"}')],
  ['NaN', raw('{"user_id":ID,"amount":"NaN","currency":"USD"}')],
  ['true', raw('{"user_id":ID,"amount":true,"currency":"USD"}')],
  ['null', raw('{"user_id":ID,"amount":null,"currency":"USD"}')],
  ['[]', raw('{"user_id":ID,"amount":[],"currency":"USD"}')],
  ['{}', raw('{"user_id":ID,"amount":{},"currency":"USD"}')],
  ['big', raw('{"user_id":ID,"amount":"90071992547409.92","currency":"USD"}')],
  ['bigjpy', raw('{"user_id":ID,"amount":9007199254740992,"currency":"JPY"}')],
  ['0.3', raw('{"user_id":ID,"amount":0.30000000000000004,"currency":"USD"}')],
  ['xyz', raw('{"user_id":ID,"amount":1,"currency":"XYZ"}')],
  ['cur123', raw('{"user_id":ID,"amount":1,"currency":123}')],
  ['uid"1"', raw('{"user_id":"1","amount":1,"currency":"USD"}')],
  ['uid1.5', raw('{"user_id":1.5,"amount":1,"currency":"USD"}')],
  ['uid2^53', raw('{"user_id":9007199254740992,"amount":1,"currency":"USD"}')],
  ['unknown', raw('{"user_id":ID,"amount":1,"currency":"USD","balance":1,"status":"x","foo":null}')],
  ['metaval', raw('{"user_id":ID,"amount":1,"currency":"USD","metadata":{"a":1}}')],
  ['metakey', raw('{"user_id":ID,"amount":1,"currency":"USD","metadata":{"' + 'k'.repeat(41) + '":"v"}}')],
  ['multi', raw('{"user_id":ID,"amount":"abc","currency":"USD","foo":1}')],
  ['multi2', raw('{"user_id":"x","amount":true,"currency":"usd","foo":1}')],
  ['[]body', '[]'], ['strbody', '"str"'], ['nullbody', 'null'], ['empty', ''],
  ['dup', raw('{"user_id":ID,"user_id":2,"amount":1,"currency":"USD"}')],
  ['proto', raw('{"user_id":ID,"amount":1,"currency":"USD","__proto__":{}}')],
  ['deep', raw('{"user_id":ID,"amount":1,"currency":"USD","metadata":' + '['.repeat(8) + ']'.repeat(8) + '}')],
  ['trailing', raw('{"user_id":ID,"amount":1,"currency":"USD"} x')],
];
test('explore', async () => {
  for (const [name, body] of cases) {
    const res = await app.inject(chargeRequest(body));
    console.log(name, res.statusCode, res.body);
  }
  const nob = await app.inject({ method: 'POST', url: '/charge', headers: { 'x-api-key': KEYS.checkout, 'idempotency-key': 'k1' } });
  console.log('nobody', nob.statusCode, nob.body);
  const txt = await app.inject({ method: 'POST', url: '/charge', headers: { 'x-api-key': KEYS.checkout, 'idempotency-key': 'k1', 'content-type': 'text/plain' }, payload: 'hi' });
  console.log('text', txt.statusCode, txt.body);
  const big = await app.inject(chargeRequest(raw('{"user_id":ID,"amount":1,"currency":"USD","description":"' + 'x'.repeat(17000) + '"}')));
  console.log('big', big.statusCode, big.body);
  for (const k of ['', 'café', 'a\tb', '\x01a', 'a\x7f', ' a ', '"abc"', 'x'.repeat(256), 'é'.repeat(3)]) {
    try {
      const r = await app.inject(chargeRequest(raw('{"user_id":ID,"amount":0.01,"currency":"USD"}'), k));
      console.log('key', JSON.stringify(k), r.statusCode, r.body.slice(0, 200));
    } catch (e) { console.log('key', JSON.stringify(k), 'THROWS', (e as Error).message); }
  }
  const twice = await app.inject({ method: 'POST', url: '/charge', headers: { 'x-api-key': KEYS.checkout, 'content-type': 'application/json', 'idempotency-key': ['a', 'b'] }, payload: raw('{"user_id":ID,"amount":0.01,"currency":"USD"}') });
  console.log('twice', twice.statusCode, twice.body.slice(0, 200));
  app.addHook; 
});
