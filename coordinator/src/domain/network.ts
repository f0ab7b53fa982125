// Rules on networks (the /24 or /48 of an address, from http/client-address.ts): replicas of one chunk go to distinct
// networks when the pool allows it, and contributors earn no trust on jobs submitted from their own network, because
// one person behind one router is one party however many identities it registers.

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
