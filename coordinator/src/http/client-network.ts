// The network (/24 or /48) a request comes from, read from the socket. Used for distinct-network replicas and the
// submitter identity of open-mode jobs. Behind a reverse proxy every request shares the proxy's network, so the
// protection degrades to "off" rather than misfiring (the pool then looks like one network).
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { networkOf } from '../domain/network.js';

/** The caller's network, or undefined where there is no socket (tests through `app.request()`). */
export function clientNetwork(c: Context): string | undefined {
  try {
    return networkOf(getConnInfo(c).remote.address);
  } catch {
    return undefined;
  }
}
