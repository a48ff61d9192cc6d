// The interactive API docs in a real headless browser: the app listens on a port, Chromium (Debian's, driven by
// playwright-core; no browser download) opens /docs, Swagger UI renders the operations from /openapi.json, and a
// screenshot is kept in .test-data/docs-ui.png. Also checks that /openapi.json documents every status code and
// problem code of POST /charge (the descriptions come from src/lib/schemas.ts responses()).
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERRORS, type ErrorCode } from '../../src/lib/errors.ts';
import { startApp } from '../helpers/app.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(import.meta.dirname, '../..');
const SCREENSHOT = path.join(root, '.test-data', 'docs-ui.png');

/** The problem codes README promises for POST /charge; their statuses come from the error catalogue. */
const CHARGE_CODES: readonly ErrorCode[] = [
  'invalid_idempotency_key',
  'invalid_json',
  'insufficient_balance',
  'unauthorized',
  'user_not_found',
  'idempotency_key_in_use',
  'payload_too_large',
  'unsupported_media_type',
  'validation_failed',
  'currency_not_supported',
  'idempotency_key_reused',
  'internal_error',
  'database_unavailable',
];

const { app, url } = await startApp({}, { listen: true });

describe('/openapi.json documents POST /charge', async () => {
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
    paths: Record<
      string,
      Record<string, { responses?: Record<string, { description?: string }>; security?: unknown[] }>
    >;
    components?: { securitySchemes?: Record<string, { in?: string; name?: string }> };
  }>();
  const responses = doc.paths['/charge']?.post?.responses ?? {};

  test('every status code: 200, 400, 401, 404, 409, 413, 415, 422, 500, 503', () => {
    const documented = Object.keys(responses);
    const missing = ['200', '400', '401', '404', '409', '413', '415', '422', '500', '503'].filter(
      (s) => !documented.includes(s),
    );
    assert.deepEqual(missing, []);
  });

  test('every problem code in the description of its status', () => {
    const missing = CHARGE_CODES.filter(
      (code) => !(responses[String(ERRORS[code].status)]?.description ?? '').includes(code),
    );
    assert.deepEqual(missing, []);
  });

  test('the X-API-Key security scheme', () => {
    assert.deepEqual(doc.paths['/charge']?.post?.security, [{ ApiKey: [] }]);
    assert.equal(doc.components?.securitySchemes?.ApiKey?.name, 'X-API-Key');
  });
});

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

test(
  'Swagger UI renders POST /charge and an Authorize button in headless Chromium',
  { skip, timeout: 90_000 },
  async () => {
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(path.join(os.tmpdir(), 'picopay-chromium-'));
    after(() => rmSync(profile, { recursive: true, force: true }));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      // Swagger UI's assets are served by the app itself: any request elsewhere would be a broken offline page.
      const foreign: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(url) && !request.url().startsWith('data:')) foreign.push(request.url());
      });

      const response = await page.goto(`${url}/docs`, { waitUntil: 'load' });
      assert.equal(response?.status(), 200);
      const charge = page.locator('.opblock.opblock-post', { has: page.locator('[data-path="/charge"]') });
      await charge.first().waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(await charge.count(), 1, 'one POST /charge operation');
      assert.match((await charge.first().locator('.opblock-summary-method').textContent()) ?? '', /POST/);
      assert.match((await charge.first().locator('.opblock-summary-path').textContent()) ?? '', /\/charge/);

      const authorize = page.locator('button.authorize');
      await authorize.waitFor({ state: 'visible' });
      assert.match((await authorize.textContent()) ?? '', /Authorize/);

      // The Authorize dialog offers the X-API-Key scheme from the document.
      await authorize.click();
      const dialog = page.locator('.dialog-ux .modal-ux');
      await dialog.waitFor({ state: 'visible' });
      assert.match((await dialog.textContent()) ?? '', /X-API-Key/);
      await page.locator('.dialog-ux button.close-modal').click();

      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: false });
      assert.ok(statSync(SCREENSHOT).size > 10_000, 'a non-trivial screenshot');
      assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
      assert.deepEqual(foreign, [], 'no request leaves the app');
    } finally {
      await context.close();
    }
  },
);
