import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';

/**
 * An HTTP proxy to the server that lets the first POST whose path `drop` accepts reach it, waits for the whole
 * response (so the operation is committed), then destroys the client's socket instead of answering: the reply is
 * lost in transit. Every other request passes through.
 */
export async function proxyDroppingFirst(
  target: string,
  drop: (path: string) => boolean,
): Promise<{ url: string; dropped: () => string | undefined }> {
  const upstream = new URL(target);
  let dropped: string | undefined;
  const agent = new http.Agent({ keepAlive: false });
  const server = http.createServer((req, res) => {
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (reply) => {
        const chunks: Buffer[] = [];
        reply.on('data', (chunk: Buffer) => chunks.push(chunk));
        reply.on('end', () => {
          const body = Buffer.concat(chunks);
          if (dropped === undefined && req.method === 'POST' && drop(req.url ?? '')) {
            dropped = body.toString();
            req.socket.destroy();
            return;
          }
          res.writeHead(reply.statusCode ?? 502, reply.headers).end(body);
        });
      },
    );
    forward.on('error', (error) => res.destroy(error));
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, dropped: () => dropped };
}
