import type { FastifyInstance } from 'fastify';

/**
 * The response headers every answer carries, set once per request from one frozen object: what OWASP's REST
 * Security Cheat Sheet asks of a JSON API (no caching of payment data, no framing, no MIME sniffing, HTTPS only),
 * plus X-Request-Id. helmet's browser-page headers (Cross-Origin-*, Referrer-Policy, X-DNS-Prefetch-Control,
 * X-Download-Options, …) were dropped: they protect HTML documents, and running its ten middlewares per request cost
 * 6 % of the replay path's CPU (docs/BENCHMARKS.md). No script-src CSP: Swagger UI at /docs needs inline scripts.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'content-security-policy': "frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
});

export function registerSecurityHeaders(app: FastifyInstance): void {
  // A callback hook, not an async one: no promise per request on the hottest path.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    reply.header('x-request-id', request.id);
    done();
  });
}
