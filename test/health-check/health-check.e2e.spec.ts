import diagnostics from 'node:diagnostics_channel';
import type { LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  getPoolToken,
  GrpcPoolModule,
  POOL_EVENTS,
  type GrpcPoolOptions,
  type PoolService,
} from 'nestjs-grpc-pool';
import { GrpcPoolHealthIndicator, GrpcPoolHealthModule } from 'nestjs-grpc-pool/health';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';
import { checkOnlyHealth, hangingHealth, HealthImplementation } from '../support/health-servers.js';

/** Records the pool's events by channel name. */
function recordEvents() {
  const seen: Array<{ name: string; event: Record<string, unknown> }> = [];
  const listeners = Object.values(POOL_EVENTS).map((name) => {
    const listener = (event: unknown) =>
      seen.push({ name, event: event as Record<string, unknown> });
    diagnostics.subscribe(name, listener);
    return () => diagnostics.unsubscribe(name, listener);
  });
  return {
    of: (name: string) => seen.filter((entry) => entry.name === name).map((entry) => entry.event),
    stop: () => listeners.forEach((unsubscribe) => unsubscribe()),
  };
}

/** Keeps the warnings a pool logs. */
class WarningLogger implements LoggerService {
  readonly warnings: string[] = [];
  log = () => {};
  error = () => {};
  debug = () => {};
  verbose = () => {};
  warn = (message: unknown) => this.warnings.push(String(message));
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startPool(options: GrpcPoolOptions, logger: LoggerService = new WarningLogger()) {
  const app = await Test.createTestingModule({
    imports: [
      GrpcPoolModule.forRoot({ name: 'health', drainTimeoutMs: 100, ...options }),
      GrpcPoolHealthModule,
    ],
  })
    .setLogger(logger)
    .compile();
  app.useLogger(logger);
  await app.init();
  cleanups.push(() => app.close());
  const pool = app.get<PoolService>(getPoolToken('health'));
  return Object.assign(pool, { indicator: app.get(GrpcPoolHealthIndicator) });
}

async function startServer(services?: (server: import('@grpc/grpc-js').Server) => void) {
  const server = await EchoServer.start({ services });
  cleanups.push(() => server.stop());
  return server;
}

const callsOn = (server: EchoServer) =>
  [...server.callsByPeer.values()].reduce((sum, calls) => sum + calls, 0);

/** Makes `n` calls through `pool.channel`; resolves with how many each server took. */
async function spread(pool: PoolService, servers: EchoServer[], n: number): Promise<number[]> {
  const before = servers.map(callsOn);
  for (let i = 0; i < n; i++) await unary(pool.channel, { message: `m${i}` });
  return servers.map((server, i) => callsOn(server) - before[i]);
}

const outOf = (pool: PoolService, url: string) =>
  pool.members().filter((member) => member.target === url && member.out !== undefined);

describe('health checking (grpc.health.v1 over each member own connection)', () => {
  it.each([
    ['Watch', 'watch'],
    ['Check (the server has no Watch)', 'check'],
  ])(
    '%s: NOT_SERVING takes a backend out (its share drops to 0), SERVING brings it back',
    async (_label, via) => {
      const events = recordEvents();
      cleanups.push(events.stop);
      const sick = { status: 'SERVING' as 'SERVING' | 'NOT_SERVING' };
      const watched = new HealthImplementation({ '': 'SERVING' });
      const a = await startServer(
        via === 'watch'
          ? (server) => watched.addToServer(server)
          : checkOnlyHealth(() => sick.status),
      );
      const healthyB = new HealthImplementation({ '': 'SERVING' });
      const b = await startServer((server) => healthyB.addToServer(server));
      const pool = await startPool({
        url: [a.url, b.url],
        size: 4,
        healthCheck: { intervalMs: 100, timeoutMs: 2_000 },
      });
      await waitFor(
        () => new Set(events.of(POOL_EVENTS.memberHealth).map((e) => e.memberId)).size === 4,
        'a health answer for every member',
      );
      expect(await spread(pool, [a, b], 40)).toEqual([20, 20]);

      if (via === 'watch') watched.setStatus('', 'NOT_SERVING');
      else sick.status = 'NOT_SERVING';
      await waitFor(() => outOf(pool, a.url).length === 2, "a's two members out");
      expect(pool.status().ready).toBe(2);
      for (const member of outOf(pool, a.url)) {
        expect(member.state).toBe('READY');
        expect(member.slot).toBeNull();
        expect(member.out).toEqual({ reason: 'NOT_SERVING', since: expect.any(String) });
      }
      expect(events.of(POOL_EVENTS.memberHealth)).toContainEqual(
        expect.objectContaining({ pool: 'health', target: a.url, status: 'NOT_SERVING', via }),
      );
      expect(events.of(POOL_EVENTS.memberOut)).toEqual([
        expect.objectContaining({ target: a.url, reason: 'NOT_SERVING', out: 1, size: 4 }),
        expect.objectContaining({ target: a.url, reason: 'NOT_SERVING', out: 2, size: 4 }),
      ]);
      expect(await spread(pool, [a, b], 40)).toEqual([0, 40]);

      if (via === 'watch') watched.setStatus('', 'SERVING');
      else sick.status = 'SERVING';
      await waitFor(() => pool.status().ready === 4, 'all four members back');
      expect(outOf(pool, a.url)).toEqual([]);
      expect(events.of(POOL_EVENTS.memberBack)).toHaveLength(2);
      expect(await spread(pool, [a, b], 40)).toEqual([20, 20]);
      // Probes ride the members' connections but are not calls: only the 120 made here count.
      expect(pool.status().callsStarted).toBe(120);
    },
  );

  it("trusts the server's SERVICE_UNKNOWN even when it takes out every member; status() and the details say why", async () => {
    const health = new HealthImplementation({ '': 'SERVING' });
    const server = await startServer((s) => health.addToServer(s));
    const pool = await startPool({
      url: server.url,
      size: 3,
      healthCheck: { service: 'hero.Missing', intervalMs: 100 },
    });
    await waitFor(
      () => pool.members().filter((m) => m.out?.reason === 'SERVICE_UNKNOWN').length === 3,
      'every member out with SERVICE_UNKNOWN',
    );
    expect(pool.status()).toMatchObject({ size: 3, ready: 0 });
    expect(pool.tryGetChannel()).toBeUndefined();
    expect(pool.members().map((member) => member.state)).toEqual(['READY', 'READY', 'READY']);
    const out = { reason: 'SERVICE_UNKNOWN', since: expect.any(String) };
    expect(pool.indicator.isHealthy('grpc', { pool: 'health' })).toEqual({
      grpc: expect.objectContaining({
        status: 'down',
        ready: 0,
        size: 3,
        message: 'no member is in rotation: SERVICE_UNKNOWN',
        out: [0, 1, 2].map((member) => ({ member, ...out })),
      }),
    });

    // pool.channel does not send the call to a member the server turned away.
    await expect(unary(pool.channel, { message: 'x' })).rejects.toMatchObject({
      code: 14,
      details: expect.stringMatching(
        /^gRPC pool "health": every connected member is out of rotation \(SERVICE_UNKNOWN\)/,
      ),
    });
    expect(pool.status().callsStarted).toBe(0);

    health.setStatus('hero.Missing', 'SERVING');
    await waitFor(() => pool.status().ready === 3, 'every member back once the service serves');
  });

  it('guard: probe timeouts on three of four backends take out at most half the members, never the healthy one', async () => {
    const events = recordEvents();
    cleanups.push(events.stop);
    const hanging = [
      await startServer(hangingHealth),
      await startServer(hangingHealth),
      await startServer(hangingHealth),
    ];
    const good = new HealthImplementation({ '': 'SERVING' });
    const healthy = await startServer((s) => good.addToServer(s));
    const pool = await startPool({
      url: [...hanging.map((s) => s.url), healthy.url],
      size: 4,
      healthCheck: { intervalMs: 100, timeoutMs: 250 },
    });
    await waitFor(
      () => events.of(POOL_EVENTS.memberOutHeld).length >= 3,
      'the guard holding a third member in, three times',
      30_000,
    );

    const outs = events.of(POOL_EVENTS.memberOut);
    expect(outs).toHaveLength(2);
    expect(outs.every((e) => e.reason === 'probe-failures' && e.target !== healthy.url)).toBe(true);
    expect(Math.max(...outs.map((e) => e.out as number))).toBe(2);
    for (const held of events.of(POOL_EVENTS.memberOutHeld)) {
      expect(held).toMatchObject({ reason: 'probe-failures', out: 2, size: 4 });
      expect(held.target).not.toBe(healthy.url);
    }
    const members = pool.members();
    expect(members.filter((m) => m.out !== undefined)).toHaveLength(2);
    expect(members.find((m) => m.target === healthy.url)?.out).toBeUndefined();
    // Members out for failed probes get fresh channels; READY again, they stay out of rotation.
    const renewed = () =>
      events.of(POOL_EVENTS.memberReconnect).filter((e) => e.reason === 'unhealthy');
    await waitFor(() => renewed().length >= 1, 'a fresh channel for a member out', 30_000);
    const renewedId = renewed()[0].memberId;
    await waitFor(
      () =>
        events.of(POOL_EVENTS.memberConnected).filter((e) => e.memberId === renewedId).length >= 2,
      'the renewed member connected again',
      30_000,
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(pool.members().find((m) => m.id === renewedId)).toMatchObject({
      slot: null,
      out: { reason: 'probe-failures' },
    });
    expect(pool.status().ready).toBe(2);
  }, 40_000);

  it('UNIMPLEMENTED (a server without a health service) switches probing off for the pool with one warning', async () => {
    const events = recordEvents();
    cleanups.push(events.stop);
    const logger = new WarningLogger();
    const server = await startServer();
    const pool = await startPool(
      { url: server.url, size: 3, healthCheck: { intervalMs: 50, timeoutMs: 1_000 } },
      logger,
    );
    await waitFor(() => events.of(POOL_EVENTS.healthCheckOff).length > 0, 'probing switched off');
    expect(events.of(POOL_EVENTS.healthCheckOff)).toEqual([
      { pool: 'health', reason: expect.stringMatching(/^UNIMPLEMENTED: /) },
    ]);
    await waitFor(() => pool.status().ready === 3, 'three ready members');
    // Every member started probing within one interval; wait out several more.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const off = logger.warnings.filter((line) => line.startsWith('health checking is off'));
    expect(off).toHaveLength(1);
    expect(off[0]).toMatch(/the server answered UNIMPLEMENTED: .*remove healthCheck$/);
    expect(events.of(POOL_EVENTS.healthCheckOff)).toHaveLength(1);
    expect(pool.members().every((member) => member.out === undefined)).toBe(true);
  });
});

describe('outlier ejection', () => {
  it('ejects a member after N failed calls in a row for baseEjectionMs, doubling, and the guard keeps half in', async () => {
    const events = recordEvents();
    cleanups.push(events.stop);
    const server = await startServer();
    const pool = await startPool({
      url: server.url,
      size: 2,
      outlierEjection: { consecutiveFailures: 3, baseEjectionMs: 2_000, maxEjectionMs: 60_000 },
    });
    await waitFor(() => pool.status().ready === 2, 'two ready members');
    const [first, second] = pool.status().members.map((m) => m.id);
    // A client holding one member (round-robin hands out slot 0 first) fails calls on it.
    const target = pool.getChannel();
    const targetId = pool.members().find((m) => m.slot === 0)?.id;
    const fail = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await expect(unary(target, { failCode: 14 })).rejects.toMatchObject({ code: 14 });
      }
    };

    // Two failures, a success, two failures: never three in a row.
    await fail(2);
    await unary(target, { message: 'ok' });
    await fail(2);
    expect(events.of(POOL_EVENTS.memberOut)).toEqual([]);

    await fail(1);
    expect(events.of(POOL_EVENTS.memberOut)).toEqual([
      expect.objectContaining({ memberId: targetId, reason: 'ejected', durationMs: 2_000, out: 1 }),
    ]);
    const ejected = pool.members().find((m) => m.id === targetId);
    expect(ejected?.out).toEqual({
      reason: 'ejected',
      since: expect.any(String),
      until: expect.any(String),
    });
    expect(Date.parse(ejected!.out!.until!) - Date.parse(ejected!.out!.since)).toBe(2_000);
    await waitFor(() => pool.status().ready === 1, 'the ejected member out of rotation');

    // The other member fails too: the guard keeps it in (half of two stays in rotation).
    const other = [first, second].find((id) => id !== targetId);
    const otherChannel = pool.getChannel();
    for (let i = 0; i < 3; i++) {
      await expect(unary(otherChannel, { failCode: 13 })).rejects.toMatchObject({ code: 13 });
    }
    expect(events.of(POOL_EVENTS.memberOutHeld)).toEqual([
      expect.objectContaining({ memberId: other, reason: 'ejected', out: 1, size: 2 }),
    ]);

    await waitFor(() => events.of(POOL_EVENTS.memberBack).length === 1, 'the member back');
    expect(events.of(POOL_EVENTS.memberBack)[0]).toMatchObject({
      memberId: targetId,
      reason: 'ejected',
    });
    await waitFor(() => pool.status().ready === 2, 'both members in rotation');
    await fail(3);
    expect(events.of(POOL_EVENTS.memberOut)[1]).toMatchObject({
      memberId: targetId,
      reason: 'ejected',
      durationMs: 4_000,
    });
    expect(pool.indicator.isHealthy('grpc', { pool: 'health' })).toEqual({
      grpc: expect.objectContaining({
        status: 'degraded',
        ready: 1,
        out: [
          {
            member: targetId,
            reason: 'ejected',
            since: expect.any(String),
            until: expect.any(String),
          },
        ],
      }),
    });
  });
});
