import diagnostics from 'node:diagnostics_channel';
import * as grpc from '@grpc/grpc-js';
import {
  POOL_EVENTS,
  PoolTimeoutError,
  type AddressLookup,
  type GrpcPoolOptions,
  type MemberMovedEvent,
  type PoolService,
} from 'nestjs-grpc-pool';
import { createTestCertificates } from '../support/certs.js';
import { EchoServer, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { SteadyLoad, describeFailures, echoBurst } from '../reliability/calls.js';

const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

/** Three echo servers on one port, one per loopback address: one name:PORT, three backends. */
async function threeBackends(options: { credentials?: grpc.ServerCredentials } = {}) {
  for (let attempt = 0; ; attempt++) {
    const first = await EchoServer.start({ ...options, host: HOSTS[0] });
    try {
      const rest = await Promise.all(
        HOSTS.slice(1).map((host) => EchoServer.start({ ...options, host, port: first.port })),
      );
      return [first, ...rest];
    } catch (error) {
      first.stop();
      if (attempt === 5) throw error;
    }
  }
}

/** A lookup answering `addresses` for any name, counting its calls. */
function fixedLookup(addresses: readonly string[]): AddressLookup & { calls: number } {
  const lookup = Object.assign(
    async () => {
      lookup.calls++;
      return addresses.map((address) => ({ address }));
    },
    { calls: 0 },
  );
  return lookup;
}

/** READY members per address, e.g. `{ '127.0.0.2:5000': 2, … }`. */
function readyByAddress(pool: PoolService): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const member of pool.status().members) {
    if (member.state === 'READY' && !member.draining && member.address !== undefined) {
      counts[member.address] = (counts[member.address] ?? 0) + 1;
    }
  }
  return counts;
}

const shares = (pool: PoolService) =>
  Object.values(readyByAddress(pool))
    .sort((a, b) => a - b)
    .join('/');

describe('spreading members over the addresses behind a name', () => {
  const apps: PoolApp[] = [];
  let servers: EchoServer[] = [];
  const start = async (options: GrpcPoolOptions) => {
    const app = await startPoolApp({
      size: 6,
      backoff: { initialMs: 100, maxMs: 200 },
      ...options,
    });
    apps.push(app);
    return app.pool;
  };

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    servers.forEach((server) => server.stop());
    servers = [];
  });

  it('a pool of 6 on one name with three addresses puts 2/2/2 members on them, one connection each', async () => {
    servers = await threeBackends();
    const port = servers[0].port;
    const pool = await start({ url: `spread.test:${port}`, lookup: fixedLookup(HOSTS) });
    await waitFor(() => shares(pool) === '2/2/2', 'members 2/2/2');
    expect(Object.keys(readyByAddress(pool)).sort()).toEqual(HOSTS.map((h) => `${h}:${port}`));
    const outcomes = await echoBurst(pool.channel, 60, { message: 'spread' }, { timeoutMs: 5_000 });
    expect(describeFailures(outcomes)).toEqual([]);
    expect(servers.map((server) => server.peers.length)).toEqual([2, 2, 2]);
    // The name, not the address, is the authority every member sends.
    expect(pool.status().members.every((member) => member.target === `spread.test:${port}`)).toBe(
      true,
    );
  });

  it('addressMode "channel" leaves the name to grpc-js (its pick_first: all on one address)', async () => {
    servers = await threeBackends();
    const pool = await start({
      url: `dns:///localhost:${servers[0].port}`,
      addressMode: 'channel',
    });
    // localhost is 127.0.0.1 here, where no backend listens: grpc-js never sees our lookup.
    await expect(pool.awaitReady(1_000)).rejects.toBeInstanceOf(PoolTimeoutError);
    expect(pool.status().members.every((member) => member.address === undefined)).toBe(true);
  });

  it('one backend goes: 3/3 within 10 s, no waitForReady call failing; it comes back: 2/2/2 within one re-resolution, no call failing', async () => {
    servers = await threeBackends();
    const lookup = fixedLookup(HOSTS);
    const moved: MemberMovedEvent[] = [];
    const onMoved = (event: unknown) => moved.push(event as MemberMovedEvent);
    diagnostics.subscribe(POOL_EVENTS.memberMoved, onMoved);
    try {
      const pool = await start({
        url: `spread.test:${servers[0].port}`,
        lookup,
        resolveIntervalMs: 2_000,
      });
      await waitFor(() => shares(pool) === '2/2/2', 'members 2/2/2');
      const steady = () =>
        new SteadyLoad(
          () => pool.channel,
          12,
          { message: 'steady', delayMs: 5 },
          { timeoutMs: 20_000, waitForReady: true },
          5_000,
        );
      const leaving = steady();
      await servers[1].shutdownGracefully();
      await waitFor(() => shares(pool) === '3/3', 'members 3/3 after a backend left', 10_000);
      expect(moved.some((event) => event.reason === 'address-down')).toBe(true);
      await leaving.stop();
      // A call picked between the backend's GOAWAY and its member giving up its slot waits
      // in that member's channel; when the member is pointed at another address the pool
      // re-issues it there (it never left the client), so none fails.
      expect(describeFailures(leaving.outcomes)).toEqual([]);
      expect(leaving.ok).toBeGreaterThan(0);

      const returning = steady();
      await servers[1].listen();
      const lookupsAtReturn = lookup.calls;
      await waitFor(() => shares(pool) === '2/2/2', 'members 2/2/2 again', 20_000);
      // Back on the first timed resolution after the backend returned (one more may be under way).
      expect(lookup.calls - lookupsAtReturn).toBeLessThanOrEqual(2);
      const rebalanced = moved.filter((event) => event.reason === 'rebalance');
      expect(rebalanced.length).toBeGreaterThanOrEqual(2);
      expect(rebalanced.every((event) => event.makeBeforeBreak)).toBe(true);
      // Make-before-break: no call fails while members move back.
      await returning.stop();
      expect(describeFailures(returning.outcomes)).toEqual([]);
      expect(returning.ok).toBeGreaterThan(0);
    } finally {
      diagnostics.unsubscribe(POOL_EVENTS.memberMoved, onMoved);
    }
  });

  it('TLS through spread members: a certificate for the name verifies at every address', async () => {
    const certs = await createTestCertificates();
    servers = await threeBackends({
      credentials: grpc.ServerCredentials.createSsl(
        null,
        [{ private_key: certs.serverKey, cert_chain: certs.serverCert }],
        false,
      ),
    });
    const pool = await start({
      url: `spread.test:${servers[0].port}`,
      lookup: fixedLookup(HOSTS),
      credentials: grpc.credentials.createSsl(certs.ca),
    });
    await waitFor(() => shares(pool) === '2/2/2', 'TLS members 2/2/2');
    const outcomes = await echoBurst(pool.channel, 30, { message: 'tls' }, { timeoutMs: 5_000 });
    expect(describeFailures(outcomes)).toEqual([]);
    expect(servers.map((server) => server.peers.length)).toEqual([2, 2, 2]);
  });

  it('localhost as ::1 and 127.0.0.1 with a server on 127.0.0.1 only: every member ready there at once', async () => {
    servers = [await EchoServer.start()];
    const port = servers[0].port;
    const pool = await start({
      url: `localhost:${port}`,
      size: 4,
      lookup: fixedLookup(['::1', '127.0.0.1']),
      // Were a member left on ::1 to grpc-js's backoff, it would wait 10 s.
      backoff: { initialMs: 10_000, maxMs: 10_000 },
    });
    await pool.awaitReady(5_000);
    await waitFor(() => pool.status().ready === 4, 'four members ready', 5_000);
    expect(readyByAddress(pool)).toEqual({ [`127.0.0.1:${port}`]: 4 });
    const outcomes = await echoBurst(pool.channel, 20, { message: 'lh' }, { timeoutMs: 5_000 });
    expect(describeFailures(outcomes)).toEqual([]);
  });

  it("localhost through Node's own resolver: members dial its address, the sample URL works as before", async () => {
    servers = [await EchoServer.start()];
    const pool = await start({ url: `localhost:${servers[0].port}`, size: 3 });
    await pool.awaitReady(5_000);
    await waitFor(() => pool.status().ready === 3, 'three members ready', 5_000);
    expect(pool.status().members.every((member) => member.address !== undefined)).toBe(true);
  });

  it("a name that does not resolve fails awaitReady with the resolver's error", async () => {
    const lookup: AddressLookup = (host) =>
      Promise.reject(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }),
      );
    const pool = await start({ url: 'nowhere.invalid:50051', size: 2, lookup });
    const error = await pool.awaitReady(1_000).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect((error as Error).message).toContain('getaddrinfo ENOTFOUND nowhere.invalid');
    expect(pool.status().members.map((member) => member.state)).toEqual(['IDLE', 'IDLE']);
  });
});
