// Scenario 13's wire clients: the bytes of one request (Wire), keep-alive fetch for what fetch will send, and a raw
// socket writer (with its own response parser) for everything else.
import net from 'node:net';

export interface Wire {
  readonly transport: 'fetch' | 'raw';
  /** Header name and value; raw values are written as UTF-8 bytes and may contain anything. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** raw only: send the body with Transfer-Encoding: chunked in this many chunks (0: Content-Length). */
  readonly chunks: number;
  /** raw only: header lines written right after the request line (HTTP-parser faults). */
  readonly leadingLines: readonly string[];
  /** raw only: replaces the Content-Length line. */
  readonly contentLength?: string;
}

export interface HttpReply {
  readonly status: number; // 0: no HTTP answer
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly error?: string;
}

/** fetch (undici, keep-alive): for everything whose header bytes fetch accepts. */
export async function sendFetch(url: string, wire: Wire, timeoutMs: number): Promise<HttpReply> {
  try {
    const headers = new Headers();
    for (const [name, value] of wire.headers) headers.append(name, value);
    const res = await fetch(`${url}/charge`, {
      method: 'POST',
      headers,
      body: new Uint8Array(wire.body), // a copy on its own ArrayBuffer (what BodyInit wants)
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await res.text();
    const out: Record<string, string> = {};
    res.headers.forEach((value, name) => (out[name] = value));
    return { status: res.status, headers: out, body };
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return { status: 0, headers: {}, body: '', error: String(cause ?? error) };
  }
}

/** One request on a fresh socket, bytes exactly as given: repeated lines, CR/LF, control and non-ASCII bytes. */
export async function sendRaw(port: number, wire: Wire, timeoutMs: number): Promise<HttpReply> {
  const lines = ['POST /charge HTTP/1.1', ...wire.leadingLines, `Host: 127.0.0.1:${port}`, 'Connection: close'];
  for (const [name, value] of wire.headers) lines.push(`${name}: ${value}`);
  let payload = wire.body;
  if (wire.chunks > 0) {
    lines.push('Transfer-Encoding: chunked');
    const parts: Buffer[] = [];
    const step = Math.max(1, Math.ceil(wire.body.length / wire.chunks));
    for (let i = 0; i < wire.body.length; i += step) {
      const chunk = wire.body.subarray(i, i + step);
      parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('0\r\n\r\n'));
    payload = Buffer.concat(parts);
  } else {
    lines.push(`Content-Length: ${wire.contentLength ?? wire.body.length}`);
  }
  const request = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), payload]);
  return new Promise<HttpReply>((resolve) => {
    const received: Buffer[] = [];
    let error: string | undefined;
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(timeoutMs, () => {
      error = 'timeout';
      socket.destroy();
    });
    socket.on('connect', () => socket.write(request)); // no half-close: Node would drop the pending response
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (e) => (error ??= e.message));
    socket.on('close', () => resolve(parseResponse(Buffer.concat(received), error)));
  });
}

function parseResponse(bytes: Buffer, error: string | undefined): HttpReply {
  let offset = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', offset);
    if (end < 0)
      return { status: 0, headers: {}, body: '', error: error ?? `incomplete response (${bytes.length} bytes)` };
    const [statusLine = '', ...lines] = bytes.subarray(offset, end).toString('latin1').split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const start = end + 4;
    if (status === 100) {
      offset = start;
      continue;
    }
    let body: Buffer;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      let at = start;
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', at);
        if (lineEnd < 0) break;
        const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
        if (!(size > 0)) break;
        parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      body = bytes.subarray(start, start + Number(headers['content-length']));
    } else {
      body = bytes.subarray(start);
    }
    return { status, headers, body: body.toString('utf8'), error };
  }
}
