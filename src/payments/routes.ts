import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteDeps } from '../deps.ts';
import { chargeRoutes } from './charge-routes.ts';
import { creditRoutes } from './credit-routes.ts';
import { paymentReadRoutes } from './read-routes.ts';
import { refundRoutes } from './refund-routes.ts';

/** Every payments route: charges, refunds, credits and the reads of charges and refunds. */
export function paymentRoutes(deps: RouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Each in its own plugin: the charge and refund plugins count their own outcomes with their own onResponse hook.
    await app.register(chargeRoutes(deps));
    await app.register(refundRoutes(deps));
    await app.register(creditRoutes(deps));
    await app.register(paymentReadRoutes(deps));
  };
}
