// The network (/24 or /48) a request comes from, when it is known: the lease caller's network for distinct-network
// replicas and the submitter identity of open-mode jobs. Built on client-address.ts (which honours --trust-proxy).
import type { Context } from 'hono';
import { UNKNOWN_ADDRESS, clientAddress, networkOf } from './client-address.js';

/** The caller's network, or undefined where there is no address (tests through a bare `app.request()`). */
export function clientNetwork(c: Context, trustProxy: boolean): string | undefined {
  const address = clientAddress(c, trustProxy);
  if (address === UNKNOWN_ADDRESS) return undefined;
  const network = networkOf(address);
  return network.includes('/') ? network : undefined;
}
