import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { LazyRequestLogger, lazyChildLogger } from '../../src/plugins/external/request-logger.ts';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { parent: Fastify({ logger: { level, stream } }).log, lines };
}

test('a lazy request logger writes what a pino child would: enabled levels only, with the request and caller bindings', () => {
  const { parent, lines } = capture('warn');
  const log = lazyChildLogger(parent, { reqId: 'req-1' }, {});
  assert.ok(log instanceof LazyRequestLogger, 'no route-level options: lazy');
  log.info('not written at warn');
  log.setBindings({ client: 'checkout' });
  log.warn({ event: 'x' }, 'written');
  log.error('also written');
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg, l.reqId, l.client, l.event]),
    [
      [40, 'written', 'req-1', 'checkout', 'x'],
      [50, 'also written', 'req-1', 'checkout', undefined],
    ],
  );
});

test('bindings added after the first line still reach later lines; level and child behave like pino', () => {
  const { parent, lines } = capture('info');
  const log = lazyChildLogger(parent, { reqId: 'req-2' }, {}) as unknown as LazyRequestLogger;
  log.info('first');
  log.setBindings({ client: 'ops' });
  log.info('second');
  log.child({ part: 'inner' }).info('third');
  assert.equal(log.level, 'info');
  assert.equal(log.isLevelEnabled('debug'), false);
  assert.deepEqual(
    lines.map((l) => [l.msg, l.reqId, l.client, l.part]),
    [
      ['first', 'req-2', undefined, undefined],
      ['second', 'req-2', 'ops', undefined],
      ['third', 'req-2', 'ops', 'inner'],
    ],
  );
});

test('a route with its own log level gets a real child at once', () => {
  const { parent, lines } = capture('warn');
  const log = lazyChildLogger(parent, { reqId: 'req-3' }, { level: 'debug' });
  assert.ok(!(log instanceof LazyRequestLogger));
  log.debug('route-level debug');
  assert.deepEqual(
    lines.map((l) => [l.msg, l.reqId]),
    [['route-level debug', 'req-3']],
  );
});
