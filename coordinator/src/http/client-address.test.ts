// The client's address and network: from the socket, from X-Forwarded-For only when the proxy is trusted.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { UNKNOWN_ADDRESS, clientAddress, networkOf, normaliseAddress } from './client-address.js';

/** The bindings @hono/node-server passes as `c.env`, reduced to what clientAddress reads. */
const from = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });

function echoApp(trustProxy: boolean) {
  const app = new Hono();
  app.get('/who', (c) => c.text(clientAddress(c, trustProxy)));
  return app;
}

describe('clientAddress', () => {
  it('is the socket peer address', async () => {
    const res = await echoApp(false).request('/who', {}, from('203.0.113.9'));
    expect(await res.text()).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For unless the proxy is trusted (a client cannot pick its own address)', async () => {
    const init = { headers: { 'x-forwarded-for': '198.51.100.1' } };
    expect(await (await echoApp(false).request('/who', init, from('203.0.113.9'))).text()).toBe('203.0.113.9');
    expect(await (await echoApp(true).request('/who', init, from('10.0.0.2'))).text()).toBe('198.51.100.1');
  });

  it('behind a trusted proxy takes the last forwarded entry, the one the proxy appended', async () => {
    const init = { headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.1' } };
    expect(await (await echoApp(true).request('/who', init, from('10.0.0.2'))).text()).toBe('198.51.100.1');
  });

  it('falls back to the socket when a trusted proxy sent no X-Forwarded-For', async () => {
    expect(await (await echoApp(true).request('/who', {}, from('10.0.0.2'))).text()).toBe('10.0.0.2');
  });

  it('is "unknown" when there is no socket (app.request without bindings)', async () => {
    expect(await (await echoApp(false).request('/who')).text()).toBe(UNKNOWN_ADDRESS);
  });

  it('reads the real socket of @hono/node-server, including a client bound to another loopback address', async () => {
    const server = serve({ fetch: echoApp(false).fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    const get = (localAddress: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/who', localAddress }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get('127.0.0.1')).toBe('127.0.0.1');
      expect(await get('127.0.3.7')).toBe('127.0.3.7');
    } finally {
      server.close();
    }
  });
});

describe('normaliseAddress', () => {
  it('turns IPv4-mapped IPv6 into IPv4, in dotted and hex form', () => {
    expect(normaliseAddress('::ffff:192.0.2.5')).toBe('192.0.2.5');
    expect(normaliseAddress('::FFFF:7f00:1')).toBe('127.0.0.1');
  });
  it('strips brackets and zone ids, lowercases IPv6', () => {
    expect(normaliseAddress('[2001:DB8::1]')).toBe('2001:db8::1');
    expect(normaliseAddress('fe80::1%eth0')).toBe('fe80::1');
  });
});

describe('networkOf', () => {
  it('is the /24 of an IPv4 address', () => {
    expect(networkOf('192.0.2.77')).toBe('192.0.2.0/24');
    expect(networkOf('127.0.3.7')).toBe('127.0.3.0/24');
  });
  it('puts an IPv4-mapped IPv6 address in its IPv4 /24', () => {
    expect(networkOf('::ffff:192.0.2.77')).toBe('192.0.2.0/24');
  });
  it('is the /48 of an IPv6 address', () => {
    expect(networkOf('2001:db8:1:2::5')).toBe('2001:db8:1::/48');
    expect(networkOf('2001:db8:1:ffff:1:2:3:4')).toBe('2001:db8:1::/48');
    expect(networkOf('2001:db8::1')).toBe('2001:db8::/48');
    expect(networkOf('::1')).toBe('::/48');
  });
  it('keeps an unknown address as its own network', () => {
    expect(networkOf(UNKNOWN_ADDRESS)).toBe(UNKNOWN_ADDRESS);
  });
});

describe('--trust-proxy', () => {
  it('is off by default and set by the flag or TRUST_PROXY', async () => {
    const { configFromArgs } = await import('../config.js');
    expect(configFromArgs([], {}).trustProxy).toBe(false);
    expect(configFromArgs(['--trust-proxy'], {}).trustProxy).toBe(true);
    expect(configFromArgs([], { TRUST_PROXY: '1' }).trustProxy).toBe(true);
    expect(() => configFromArgs([], { TRUST_PROXY: 'yes please' })).toThrow(/TRUST_PROXY/);
  });
});
