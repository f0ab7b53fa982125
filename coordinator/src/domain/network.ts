// Networks of contributors and submitters: the /24 (IPv4) or /48 (IPv6) an address belongs to. Replicas of one
// chunk go to distinct networks when the pool allows it, and a job's submitter earns no trust for the contributors
// on its own network, because one person behind one router is one party however many identities it registers.
import { isIPv4, isIPv6 } from 'node:net';

/**
 * The network an address belongs to, as CIDR text, or undefined for anything that is not an IP address.
 * Example: networkOf('203.0.113.77') === '203.0.113.0/24'; networkOf('2001:db8:1:2::5') === '2001:db8:1::/48'.
 */
export function networkOf(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1] : address;
  if (isIPv4(ip)) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(ip)) return undefined;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/48`;
}

/** The submitter identity of anyone submitting from `network` when jobs are open to all (`--auth open`). */
export const networkSubmitter = (network: string): string => `net:${network}`;

/**
 * Whether a contributor on `network` may be issued another replica of a chunk whose live replicas (running or
 * successful) sit on `taken` networks. A second network is required only while one that holds no replica of the
 * chunk has asked for work lately (`active`): a pool that is all one network (a single machine, one campus NAT)
 * still gets its chunks replicated, just without that protection.
 */
export function networkMayTake(network: string | undefined, taken: (string | undefined)[], active: Iterable<string>): boolean {
  if (!network || !taken.includes(network)) return true;
  for (const other of active) if (!taken.includes(other)) return false;
  return true;
}
