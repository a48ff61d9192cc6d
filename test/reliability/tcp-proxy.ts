// A small toxiproxy-style TCP proxy for fault tests: added latency, and cutting a connection right after the
// upstream sent a response that contains a marker (e.g. the reply to a COMMITted charge).
import { once } from 'node:events';
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Delay every chunk, both directions, by this many ms (0: none). */
  setLatency(ms: number): void;
  /**
   * The next upstream→client chunk containing `marker` is dropped and both sockets are destroyed: the upstream did
   * the work, the client never hears of it. Resolves when that happened.
   */
  cutAfterResponseContaining(marker: string): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let latency = 0;
  let cut: { marker: Buffer; done: () => void } | undefined;
  const sockets = new Set<net.Socket>();

  const forward = (from: net.Socket, to: net.Socket, inspect: boolean): void => {
    from.on('data', (chunk: Buffer) => {
      if (inspect && cut !== undefined && chunk.includes(cut.marker)) {
        const { done } = cut;
        cut = undefined;
        from.destroy();
        to.destroy();
        done();
        return;
      }
      if (latency > 0) setTimeout(() => to.destroyed || to.write(chunk), latency);
      else to.write(chunk);
    });
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    forward(client, upstream, false);
    forward(upstream, client, true);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    setLatency: (ms) => void (latency = ms),
    cutAfterResponseContaining: (marker) =>
      new Promise<void>((resolve) => (cut = { marker: Buffer.from(marker), done: resolve })),
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
