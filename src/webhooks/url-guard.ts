// The SSRF guard for webhook URLs: an admin mistake (or a stolen admin key) must not turn PicoPay into a probe of
// the network it runs in. Checked at creation (422) and again before every delivery, on the address the request
// then connects to (the lookup is pinned, so DNS cannot answer differently between the check and the connect).
import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';

/** Where a delivery connects: the URL and the one address that passed the check. */
export interface Target {
  readonly url: URL;
  readonly address: string;
  readonly family: 4 | 6;
}

export type Checked = { readonly ok: true; readonly target: Target } | { readonly ok: false; readonly reason: string };

export type Resolver = (host: string) => Promise<readonly { address: string; family: number }[]>;

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

// Loopback, private (RFC 1918), CGNAT, link-local (cloud metadata at 169.254.169.254), "this network", benchmark,
// documentation, multicast and reserved ranges: nothing a public webhook receiver lives at.
const REFUSED_V4: readonly [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
// ::/96 holds the unspecified address, loopback and the IPv4-compatible forms; ::ffff:0:0/96 (IPv4-mapped) is
// checked by its IPv4 address instead; NAT64 (64:ff9b::/96) reaches IPv4 addresses through a translator.
const REFUSED_V6: readonly [string, number][] = [
  ['::', 96],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

const refused = new net.BlockList();
for (const [prefix, bits] of REFUSED_V4) refused.addSubnet(prefix, bits, 'ipv4');
for (const [prefix, bits] of REFUSED_V6) refused.addSubnet(prefix, bits, 'ipv6');

/** The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d, in any spelling) stands for, else undefined. */
function mappedV4(address: string): string | undefined {
  const mapped = new net.BlockList();
  mapped.addSubnet('::ffff:0:0', 96, 'ipv6');
  if (!mapped.check(address, 'ipv6')) return undefined;
  const tail = address.slice(address.lastIndexOf(':') + 1);
  if (tail.includes('.')) return tail;
  const groups = address.split(':');
  const lo = parseInt(groups.at(-1) ?? '0', 16);
  const hi = parseInt(groups.at(-2) ?? '0', 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Whether a delivery may connect to this address (without an allowlist entry). */
export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return !refused.check(address, 'ipv4');
  if (family !== 6) return false;
  const v4 = mappedV4(address);
  return v4 === undefined ? !refused.check(address, 'ipv6') : isPublicAddress(v4);
}

const defaultPort = (url: URL): string => url.port || (url.protocol === 'https:' ? '443' : '80');

/** `host` or `host:port` entries (lower case; IPv6 in brackets) of WEBHOOK_URL_ALLOWLIST. */
export function allowlisted(url: URL, allowlist: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  return allowlist.includes(host) || allowlist.includes(`${host}:${defaultPort(url)}`);
}

/** Parses and checks the form of a webhook URL, without resolving it. */
export function parseWebhookUrl(raw: string): { ok: true; url: URL } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'only http and https' };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'credentials in the URL' };
  if (url.hash !== '') return { ok: false, reason: 'a fragment' };
  return { ok: true, url };
}

/**
 * Resolves the URL's host and picks the address to connect to. Every address the name resolves to must be public,
 * unless the host (or host:port) is allowlisted: a name with one private address among public ones is refused.
 */
export async function checkWebhookUrl(
  raw: string,
  allowlist: readonly string[],
  resolve: Resolver = systemResolver,
): Promise<Checked> {
  const parsed = parseWebhookUrl(raw);
  if (!parsed.ok) return parsed;
  const { url } = parsed;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: readonly { address: string; family: number }[];
  if (net.isIP(host) !== 0) addresses = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      return { ok: false, reason: `host does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }
  const first = addresses[0];
  if (first === undefined) return { ok: false, reason: 'host does not resolve' };
  if (!allowlisted(url, allowlist)) {
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad !== undefined) return { ok: false, reason: `${bad.address} is not a public address` };
  }
  return { ok: true, target: { url, address: first.address, family: first.family === 6 ? 6 : 4 } };
}
