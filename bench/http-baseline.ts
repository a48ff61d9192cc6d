// HTTP baseline: a bare Fastify route answering a constant — what HTTP (and the load generator) can do on this
// machine without the database, parsing the same JSON bodies PicoPay gets.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const constant = '{"message":"ok"}';
app.post('/charge', async (_request, reply) => reply.type('application/json').send(constant));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8001) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
