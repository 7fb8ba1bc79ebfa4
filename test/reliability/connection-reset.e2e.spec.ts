import { EchoServer, sleep, waitFor } from '../support/echo-server.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { describeFailures, SteadyLoad } from './calls.js';
import { connectionsByMember, readyMembers } from './member-connections.js';

describe("one member's connection reset while the others stay up", () => {
  let server: EchoServer;
  let proxy: FaultProxy;
  let app: PoolApp;

  beforeEach(async () => {
    server = await EchoServer.start();
    proxy = await FaultProxy.start({ targetPort: server.port });
    app = await startPoolApp({
      url: proxy.url,
      size: 4,
      backoff: { initialMs: 100, maxMs: 300 },
    });
    await waitFor(() => app.pool.status().ready === 4, 'a full pool');
  });

  afterEach(async () => {
    await app.close();
    await proxy.stop();
    server.stop();
  });

  it.each(['reset', 'close'] as const)(
    '%s: only that member leaves, traffic moves to the others, and it comes back on a new connection',
    async (fault) => {
      const { pool } = app;
      const byMember = await connectionsByMember(pool, proxy);
      const [victimId, victim] = [...byMember][1];
      const before = readyMembers(pool);
      const load = new SteadyLoad(() => pool.channel, 16, { delayMs: 5 }, { timeoutMs: 2_000 });
      await sleep(100);

      victim[fault]();
      await victim.closed;
      await waitFor(() => pool.status().ready === 4 && proxy.accepted === 5, 'the member back');
      await sleep(100);
      await load.stop();

      // Only the victim reconnected; every other member kept its connection all along.
      const after = readyMembers(pool);
      for (const [id, readySince] of before) {
        if (id === victimId) expect(after.get(id)).not.toBe(readySince);
        else expect(after.get(id)).toBe(readySince);
      }
      for (const [id, connection] of byMember) {
        expect(connection.open).toBe(id !== victimId);
      }
      expect(proxy.open).toBe(4);
      // A call the server was handling on the cut connection may fail, as UNAVAILABLE only.
      const failures = describeFailures(load.outcomes);
      expect(failures.every((failure) => failure.startsWith('UNAVAILABLE: '))).toBe(true);
      expect(failures.length).toBeLessThanOrEqual(16);
      expect(load.ok).toBeGreaterThan(20);
      // The new connection carries calls again.
      const peers = new Set(load.outcomes.slice(-64).map((outcome) => outcome.peer));
      expect(peers.has(proxy.connection(4).serverSidePeer)).toBe(true);
      expect(peers.has(victim.serverSidePeer)).toBe(false);
    },
  );

  it('while the member is away, the slot table holds the others and new calls go only to them', async () => {
    const { pool } = app;
    const byMember = await connectionsByMember(pool, proxy);
    const [victimId, victim] = [...byMember][0];
    // Keep the member away: its reconnection attempts are reset at accept.
    proxy.onAccept = 'reset';
    victim.reset();
    await waitFor(() => pool.status().ready === 3, 'the member out of the slot table');
    const away = pool.members().find((member) => member.id === victimId)!;
    expect(away.slot).toBeNull();
    expect(away.state).not.toBe('READY');
    expect(
      pool
        .members()
        .filter((member) => member.id !== victimId)
        .map((member) => member.slot)
        .sort(),
    ).toEqual([0, 1, 2]);

    const load = new SteadyLoad(() => pool.channel, 8, {}, { timeoutMs: 2_000 }, 25);
    await load.stop();
    expect(describeFailures(load.outcomes)).toEqual([]);
    const others = [...byMember].filter(([id]) => id !== victimId).map(([, c]) => c.serverSidePeer);
    expect(new Set(load.outcomes.map((outcome) => outcome.peer))).toEqual(new Set(others));

    proxy.onAccept = 'pass';
    await waitFor(() => pool.status().ready === 4, 'the member back', 3_000);
    expect(
      pool
        .members()
        .map((member) => member.slot)
        .sort(),
    ).toEqual([0, 1, 2, 3]);
    expect(pool.status().members.find((member) => member.id === victimId)?.lastError).toBe(
      undefined,
    );
    await waitFor(() => pool.status().inFlight === 0, 'no call in flight');
  });
});
