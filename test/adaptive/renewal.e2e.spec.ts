import * as grpc from '@grpc/grpc-js';
import {
  POOL_EVENTS,
  type DrainStartEvent,
  type PoolService,
  type RenewalEvent,
} from 'nestjs-grpc-pool';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { describeFailures, SteadyLoad } from '../reliability/calls.js';
import { collect } from './events.js';

const ids = (pool: PoolService) =>
  pool
    .status()
    .members.filter((member) => !member.draining && !member.replacement)
    .map((member) => member.id);

describe('connection renewal (maxConnectionAgeMs)', () => {
  let server: EchoServer;
  let proxy: FaultProxy | undefined;
  let app: PoolApp | undefined;
  let renewals: ReturnType<typeof collect<RenewalEvent>>[];

  beforeEach(async () => {
    server = await EchoServer.start();
    renewals = [POOL_EVENTS.renewalStart, POOL_EVENTS.renewalDone, POOL_EVENTS.renewalFailed].map(
      (name) => collect<RenewalEvent>(name),
    );
  });

  afterEach(async () => {
    renewals.forEach((events) => events.stop());
    await app?.close();
    app = undefined;
    await proxy?.stop();
    proxy = undefined;
    server.stop();
  });

  it('renews members one at a time under load, make-before-break: 0 failed calls, the ready count never drops', async () => {
    app = await startPoolApp({ url: server.url, size: 4, maxConnectionAgeMs: 1_000 });
    const { pool } = app;
    await waitFor(() => pool.status().ready === 4, 'four ready members');
    let running = 0;
    let mostAtOnce = 0;
    const phases = collect<RenewalEvent>(POOL_EVENTS.renewalStart);
    const done = collect<RenewalEvent>(POOL_EVENTS.renewalDone);
    const drains = collect<DrainStartEvent>(POOL_EVENTS.drainStart);
    // Sample the slot table at every step of a renewal, synchronously where it happens.
    const watch = setInterval(() => {
      running = phases.events.length - done.events.length - renewals[2].events.length;
      mostAtOnce = Math.max(mostAtOnce, running);
    }, 1);
    const load = new SteadyLoad(
      () => pool.channel,
      20,
      { delayMs: 20 },
      { timeoutMs: 10_000 },
      2_000,
    );
    let noMember = 0;
    const sampler = setInterval(() => {
      if (pool.tryGetChannel() === undefined) noMember++;
    }, 1);
    await waitFor(() => done.events.length >= 6, 'six renewals', 20_000);
    await load.stop();
    clearInterval(watch);
    clearInterval(sampler);
    phases.stop();
    done.stop();
    drains.stop();

    expect(describeFailures(load.outcomes)).toEqual([]);
    expect(load.ok).toBeGreaterThan(100);
    expect(mostAtOnce).toBeLessThanOrEqual(1);
    expect(noMember).toBe(0);
    expect(renewals[2].events).toEqual([]);
    for (const event of done.events) {
      expect(event.reason).toBe('max-age');
      expect(event.ageMs).toBeLessThanOrEqual(1_000 + 1_000); // its deadline plus a tick
      expect(event.newMemberId).toBeGreaterThanOrEqual(4);
    }
    // Every renewal drained its old member after the swap.
    expect(drains.events.filter((event) => event.reason === 'renewal').length).toBe(
      done.events.length,
    );
    const status = pool.status();
    expect(status.ready).toBe(4);
    expect(status.renewal).toMatchObject({ maxConnectionAgeMs: 1_000, failed: 0 });
    expect(status.renewal!.done).toBeGreaterThanOrEqual(6);
    const renewed = status.members.find((member) => member.renewedFrom !== undefined);
    expect(renewed).toBeDefined();
    expect(renewed!.id).toBeGreaterThan(renewed!.renewedFrom!);
  });

  it('a pool of one stays READY through every renewal: the new member takes the slot before the old one leaves it', async () => {
    app = await startPoolApp({ url: server.url, size: 1, maxConnectionAgeMs: 1_000 });
    const { pool } = app;
    await waitFor(() => pool.status().ready === 1, 'a ready member');
    // Every connectivity change of pool.channel, heard synchronously as the table changes.
    const seen: string[] = [];
    let watching = true;
    const watch = (state: grpc.connectivityState) =>
      pool.channel.watchConnectivityState(state, Infinity, () => {
        const now = pool.channel.getConnectivityState(false);
        seen.push(grpc.connectivityState[now]);
        if (watching) watch(now);
      });
    watch(pool.channel.getConnectivityState(false));
    await waitFor(() => renewals[1].events.length >= 3, 'three renewals', 15_000);
    watching = false;
    expect(seen.filter((state) => state !== 'READY')).toEqual([]);
    expect(pool.status().ready).toBe(1);
  });

  it('a renewal whose new connection never becomes READY leaves the old member serving and says so', async () => {
    proxy = await FaultProxy.start({ targetPort: server.port });
    app = await startPoolApp({
      url: proxy.url,
      size: 2,
      maxConnectionAgeMs: 1_000,
      connectTimeoutMs: 1_000,
    });
    const { pool } = app;
    await waitFor(() => pool.status().ready === 2, 'two ready members');
    const before = ids(pool);
    // From now on every new connection is accepted and then hears nothing (no SETTINGS).
    proxy.onAccept = 'blackhole';
    await waitFor(() => renewals[2].events.length >= 1, 'a failed renewal', 15_000);

    const failed = renewals[2].events[0];
    expect(failed.error).toMatch(/was not READY within connectTimeoutMs \(1000 ms\)/);
    expect(before).toContain(failed.memberId);
    expect(renewals[1].events).toEqual([]);
    expect(ids(pool)).toEqual(before);
    expect(pool.status().ready).toBe(2);
    expect(pool.status().renewal!.failed).toBeGreaterThanOrEqual(1);
    const reply = await unary(pool.channel, { message: 'still here' });
    expect(reply.message).toBe('still here');
    // The failed renewal's socket is closed: only the two members' connections stay open.
    await waitFor(
      () => proxy!.connections.filter((connection) => !connection.client.closed).length <= 3,
      'the failed attempts closed',
    );
  });

  it('close() during a renewal cancels it and leaves no socket open', async () => {
    proxy = await FaultProxy.start({ targetPort: server.port });
    app = await startPoolApp({
      url: proxy.url,
      size: 2,
      maxConnectionAgeMs: 1_000,
      connectTimeoutMs: 30_000,
      autoscale: { min: 1, max: 4, streamsPerMember: 2, cooldownMs: 0 },
    });
    const { pool } = app;
    await waitFor(() => pool.status().ready === 2, 'two ready members');
    proxy.onAccept = 'blackhole';
    // Load past the mark: the autoscaler adds members whose connections hang too.
    const load = new SteadyLoad(() => pool.channel, 6, { delayMs: 50 }, { timeoutMs: 5_000 }, 100);
    await waitFor(() => renewals[0].events.length >= 1, 'a renewal under way', 15_000);
    await waitFor(() => pool.status().size > 2, 'an add under way', 15_000);
    expect(pool.status().renewal!.running).toBeDefined();
    await app.close();
    app = undefined;
    await load.stop();

    expect(renewals[2].events.map((event) => event.error)).toEqual(['the pool closed']);
    await waitFor(
      () => proxy!.connections.every((connection) => connection.client.closed),
      'every client socket closed',
    );
  });

  it('runs warmUp on the new connection before the swap, retries it once, and keeps the old member when it fails twice', async () => {
    const warmedOn: string[] = [];
    let fail = true;
    app = await startPoolApp({
      url: server.url,
      size: 1,
      maxConnectionAgeMs: 1_000,
      warmUp: async (channel) => {
        const reply = await unary(channel, { message: 'warm' });
        warmedOn.push(reply.peer);
        if (fail) throw new Error('not warm yet');
      },
    });
    const { pool } = app;
    await waitFor(() => renewals[2].events.length >= 1, 'a renewal failing its warm-up', 15_000);
    expect(renewals[2].events[0].error).toBe('warmUp failed twice: not warm yet');
    expect(warmedOn).toHaveLength(2);
    expect(pool.status().members.map((member) => member.id)).toEqual([0]);
    fail = false;
    await waitFor(() => renewals[1].events.length >= 1, 'a warmed renewal', 15_000);
    // The warm-up rode the new connection: the one that now serves.
    const reply = await unary(pool.channel, {});
    expect(warmedOn.at(-1)).toBe(reply.peer);
    expect(
      pool.status().members.filter((member) => !member.draining && !member.replacement)[0]
        .renewedFrom,
    ).toBe(0);
  });

  it("a server's GOAWAY resets the member's age", async () => {
    server.stop();
    server = await EchoServer.start({
      serverOptions: { 'grpc.max_connection_age_ms': 500, 'grpc.max_connection_age_grace_ms': 500 },
    });
    app = await startPoolApp({ url: server.url, size: 1, maxConnectionAgeMs: 60_000 });
    const { pool } = app;
    await waitFor(() => pool.status().members[0].renewAt !== undefined, 'a renewal deadline');
    const first = pool.status().members[0];
    await waitFor(() => {
      const member = pool.status().members[0];
      return member.disconnects >= 1 && member.renewAt !== undefined;
    }, 'a reconnect after GOAWAY');
    const after = pool.status().members[0];
    expect(after.id).toBe(first.id);
    expect(after.readySince).not.toBe(first.readySince);
    // Counted again from the new connection: a full age less at most the jitter (12.5 %).
    const life = Date.parse(after.renewAt!) - Date.parse(after.readySince!);
    expect(life).toBeGreaterThanOrEqual(60_000 * 0.875);
    expect(life).toBeLessThanOrEqual(60_000);
    expect(Date.parse(after.renewAt!)).toBeGreaterThan(Date.parse(first.renewAt!) - 60_000);
    expect(renewals[0].events).toEqual([]);
  });
});
