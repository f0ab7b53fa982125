// Who is asking: the client's address for a request, and the network (/24 or /48) it belongs to. Rate limits,
// replica spreading across networks and open-mode job owners all key on these, so they live in one place.
import type { Context } from 'hono';
import { isIPv4, isIPv6 } from 'node:net';

/** Used when no socket is known (an `app.request()` without node-server bindings). All such requests share it. */
export const UNKNOWN_ADDRESS = 'unknown';

/** The part of `c.env` that @hono/node-server provides (`{ incoming, outgoing }`, or nested under `server`). */
interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
  server?: { incoming?: { socket?: { remoteAddress?: string } } };
}

/**
 * The address the request came from. The socket's peer address, unless `trustProxy` is set: then the last entry
 * of `X-Forwarded-For`, the one our own reverse proxy appended (entries before it are whatever the client sent,
 * so they are never trusted). IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is returned as plain IPv4.
 *
 * Tests inject an address the way node-server does: `app.request(path, init, { incoming: { socket: { remoteAddress } } })`.
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for');
    const last = forwarded?.split(',').map((part) => part.trim()).filter(Boolean).at(-1);
    if (last) return normaliseAddress(last);
  }
  const env = c.env as NodeBindings | undefined;
  const remote = env?.incoming?.socket?.remoteAddress ?? env?.server?.incoming?.socket?.remoteAddress;
  return remote ? normaliseAddress(remote) : UNKNOWN_ADDRESS;
}

/** Strips IPv6 zone ids, brackets and the IPv4-mapped prefix; lowercases IPv6. Anything unparseable is kept as is. */
export function normaliseAddress(raw: string): string {
  let address = raw.trim();
  if (address.startsWith('[') && address.includes(']')) address = address.slice(1, address.indexOf(']'));
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv6(address)) {
    const groups = expandIPv6(address);
    // ::ffff:7f00:1 is the same mapped address written in hex.
    if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
      return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
    }
    return address.toLowerCase();
  }
  return address;
}

/**
 * The network an address belongs to, as a CIDR prefix: /24 for IPv4, /48 for IPv6 (a typical single site's
 * allocation). One person usually controls a whole such network, so limits and replica spreading count by it.
 *
 * @example networkOf('192.0.2.77') === '192.0.2.0/24'; networkOf('2001:db8:1:2::5') === '2001:db8:1::/48'
 */
export function networkOf(address: string): string {
  const normal = normaliseAddress(address);
  if (isIPv4(normal)) {
    const [a, b, c] = normal.split('.');
    return `${a}.${b}.${c}.0/24`;
  }
  if (isIPv6(normal)) {
    const [a, b, c] = expandIPv6(normal);
    const head = [a!, b!, c!];
    while (head.length > 0 && head.at(-1) === 0) head.pop();
    return `${head.map((g) => g.toString(16)).join(':')}::/48`;
  }
  return normal;
}

/** The eight 16-bit groups of a valid IPv6 address (a dotted IPv4 tail becomes the last two). */
function expandIPv6(address: string): number[] {
  let text = address;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail[1]!.split('.').map(Number);
    text = `${text.slice(0, tail.index)}${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const fill = rest === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => parseInt(g, 16));
}
