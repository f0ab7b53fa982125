// Who a submitter is, decided once per request and put on the context as its principal; routes read the principal,
// never headers. `--auth open`: anyone may submit and is known by their network (`net:127.0.0.0/24`); an API key,
// when sent, counts. `--auth keys`: changing anything needs `Authorization: Bearer <key>`; reading a public job
// does not.
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ErrorCode } from '../../../protocol/index.js';
import { networkSubmitter } from '../domain/network.js';
import { effectiveQuota, type Quota } from '../domain/quota.js';
import type { JobAccess } from '../store/store.js';
import { clientNetwork } from './client-network.js';
import { ApiError } from './errors.js';

export type AuthMode = 'open' | 'keys';

/** The submitter behind a request: the owner id of what it submits, and whether it may act on every job. */
export interface Principal {
  id: string;
  admin: boolean;
  /** The key's own quotas (ApiKey.quota); the coordinator's defaults fill in the rest (principalQuota). */
  quota?: Quota;
}

declare module 'hono' {
  interface ContextVariableMap {
    /** Undefined in keys mode for a request that sent no key. */
    principal: Principal | undefined;
  }
}

export interface SubmitterAuthOptions {
  mode: AuthMode;
  /** Whether the forwarded address counts (--trust-proxy), for the network of open-mode submitters. */
  trustProxy: boolean;
  /** The principal a bearer key stands for, or undefined when the key is unknown or revoked. */
  verify: (key: string) => Promise<Principal | undefined>;
}

/** Puts the request's principal on the context (`c.get('principal')`); a key that does not verify is a 401. */
export function submitterAuth({ mode, trustProxy, verify }: SubmitterAuthOptions) {
  return createMiddleware(async function submitterAuthentication(c, next) {
    const header = c.req.header('authorization');
    let principal: Principal | undefined;
    if (header !== undefined) {
      const key = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
      principal = key ? await verify(key) : undefined;
      if (!principal) throw new ApiError(ErrorCode.ApiKeyRequired, 'the key sent is unknown or revoked');
    } else if (mode === 'open') {
      principal = { id: networkSubmitter(clientNetwork(c, trustProxy) ?? 'unknown'), admin: false };
    }
    c.set('principal', principal);
    await next();
  });
}

/** The principal, or a 401 API_KEY_REQUIRED (the pages ask for a key when they see that code). */
export function requirePrincipal(c: Context): Principal {
  const principal = c.get('principal');
  if (!principal) throw new ApiError(ErrorCode.ApiKeyRequired);
  return principal;
}

/** Throws unless the principal owns the job or is an admin: 401 without a principal, 403 with another one. */
export function requireOwner(c: Context, access: JobAccess): Principal {
  const principal = requirePrincipal(c);
  if (!principal.admin && (access.owner === undefined || access.owner !== principal.id)) throw new ApiError(ErrorCode.NotJobOwner);
  return principal;
}

/** Throws unless the principal may read the job's source, inputs and results: anyone for a public job. */
export function requireReader(c: Context, access: JobAccess): void {
  if (access.private) requireOwner(c, access);
}

/** The limits that apply to a principal: its key's own quotas, else `defaults` (--key-max-*); admin keys: its own only. */
export function principalQuota(principal: Principal, defaults: Quota): Quota {
  return effectiveQuota(principal.quota, defaults, principal.admin);
}
