/**
 * Issue 18, defect 6: renewal (`maxConnectionAgeMs`) must not put back a member that health
 * checking or outlier ejection holds out of rotation. A renewal makes the member's successor
 * make-before-break; that successor must inherit the hold (or the held member must not be
 * swapped into rotation), so the server that said NOT_SERVING, or the backend whose calls
 * got its member ejected, gets no call until its own signal lets it back.
 *
 * Failure seen on the code before the lifecycle rewrite (commit 19fef65), run with
 *   node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand \
 *     test/pool/renewal-respects-outs.e2e.spec.ts
 * - NOT_SERVING: `expect(served).toBe(0)` got 82 and 54 in two runs: calls reached the
 *   NOT_SERVING server during six renewals (~1.5 s); each renewal swaps a fresh, unprobed
 *   member into a slot.
 * - ejected: 6 calls reached the failing backend inside its 30 s ejection (both runs), and
 *   its ejection was restarted (`out.until` 786 / 912 ms later than the first: the renewed
 *   member came back, failed again and was ejected anew from the base, its backoff reset);
 *   the 20 ms status() sampler saw it in rotation 0 / 4 times (it is back for ~3 calls).
 */
import * as grpc from '@grpc/grpc-js';
import {
  POOL_EVENTS,
  type MemberHealthEvent,
  type PoolMemberInfo,
  type PoolService,
  type RenewalEvent,
} from 'nestjs-grpc-pool';
import { collect } from '../adaptive/events.js';
import { SteadyLoad } from '../reliability/calls.js';
import { EchoClient, EchoServer, waitFor } from '../support/echo-server.js';
import { HealthImplementation } from '../support/health-servers.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(services?: (server: grpc.Server) => void): Promise<EchoServer> {
  const server = await EchoServer.start({ services });
  cleanups.push(() => server.stop());
  return server;
}

async function startPool(options: Parameters<typeof startPoolApp>[0]): Promise<PoolService> {
  const app: PoolApp = await startPoolApp({ drainTimeoutMs: 100, ...options });
  cleanups.push(() => app.close());
  return app.pool;
}

/** Collects an event channel for the whole test. */
function events<T>(name: string): T[] {
  const collected = collect<T>(name);
  cleanups.push(collected.stop);
  return collected.events;
}

const callsOn = (server: EchoServer) =>
  [...server.callsByPeer.values()].reduce((sum, calls) => sum + calls, 0);

/** The members a pool keeps on `url` (a renewal's old member, draining, is not kept). */
const keptOn = (pool: PoolService, url: string): PoolMemberInfo[] =>
  pool
    .status()
    .members.filter((member) => member.target === url && !member.draining && !member.replacement);

/** A member the strategy may pick: connected, in the slot table, held by nothing. */
const inRotation = (member: PoolMemberInfo) =>
  member.state === 'READY' && member.slot !== null && member.out === undefined;

/** An Echo backend whose every call ends UNAVAILABLE (a backend failing fast), counting calls. */
async function failingBackend(): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  const server = new grpc.Server();
  server.addService(EchoClient.service, {
    Unary: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      calls++;
      callback({ code: grpc.status.UNAVAILABLE, details: 'this backend is failing' });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  cleanups.push(() => server.forceShutdown());
  return { url: `127.0.0.1:${port}`, calls: () => calls };
}

describe('renewal keeps members that health checking or ejection holds out of rotation out', () => {
  it('a server saying NOT_SERVING gets no call across several renewals of the pool', async () => {
    const health = events<MemberHealthEvent>(POOL_EVENTS.memberHealth);
    const renewed = events<RenewalEvent>(POOL_EVENTS.renewalDone);
    const sickHealth = new HealthImplementation({ '': 'SERVING' });
    const sick = await startServer((server) => sickHealth.addToServer(server));
    const goodHealth = new HealthImplementation({ '': 'SERVING' });
    const good = await startServer((server) => goodHealth.addToServer(server));
    const pool = await startPool({
      url: [sick.url, good.url],
      size: 4,
      healthCheck: { intervalMs: 200, timeoutMs: 2_000 },
      maxConnectionAgeMs: 1_000,
    });
    await waitFor(
      () => new Set(health.map((event) => event.memberId)).size >= 4,
      'a health answer for four members',
    );

    sickHealth.setStatus('', 'NOT_SERVING');
    await waitFor(() => {
      const members = keptOn(pool, sick.url);
      return members.length > 0 && members.every((m) => m.out?.reason === 'NOT_SERVING');
    }, 'every member on the NOT_SERVING server out of rotation');
    const before = callsOn(sick);
    const renewalsBefore = renewed.length;
    // Bounded: 4 loops of at most 2,000 calls, stopped after the renewals below (≤ 20 s).
    const load = new SteadyLoad(
      () => pool.channel,
      4,
      { message: 'm' },
      { timeoutMs: 5_000 },
      2_000,
    );
    // Several renewals (at 1 s of age, four members: about four a second), so that members
    // of the NOT_SERVING server are renewed too, whichever way renewal treats held members.
    await waitFor(
      () => renewed.length - renewalsBefore >= 6,
      'six renewals while the server says NOT_SERVING',
      20_000,
    );
    await load.stop();
    const served = callsOn(sick) - before;
    expect(load.ok).toBeGreaterThan(0);
    expect(served).toBe(0);
  }, 40_000);

  it('an ejected member stays out for its whole ejection when renewed: no call reaches its backend, its ejection is not restarted', async () => {
    const renewed = events<RenewalEvent>(POOL_EVENTS.renewalDone);
    const good = await startServer();
    const bad = await failingBackend();
    const pool = await startPool({
      url: [good.url, bad.url],
      size: 4,
      outlierEjection: { consecutiveFailures: 3, baseEjectionMs: 30_000, maxEjectionMs: 60_000 },
      maxConnectionAgeMs: 1_000,
    });
    await waitFor(() => pool.status().ready === 4, 'four ready members');
    // Bounded: 2 loops of at most 3,000 calls each, stopped at the end of the window (≤ 30 s).
    const load = new SteadyLoad(
      () => pool.channel,
      2,
      { message: 'm' },
      { timeoutMs: 5_000 },
      3_000,
    );
    cleanups.push(() => load.stop());
    // The guard lets two of four go (two stay in): both members on the failing backend.
    await waitFor(() => {
      const members = keptOn(pool, bad.url);
      return members.length === 2 && members.every((m) => m.out?.reason === 'ejected');
    }, "both of the failing backend's members ejected");
    const ejectedAt = Date.now();
    const until = Math.max(...keptOn(pool, bad.url).map((m) => Date.parse(m.out!.until!)));
    const before = bad.calls();
    const renewalsBefore = renewed.length;

    // status() as users read it, sampled through the window: a member on the failing
    // backend in rotation is the defect (the sampler only reads; it decides nothing).
    let backInRotation = 0;
    let latestUntil = until;
    const sampler = setInterval(() => {
      for (const member of keptOn(pool, bad.url)) {
        if (inRotation(member)) backInRotation++;
        if (member.out?.until !== undefined) {
          latestUntil = Math.max(latestUntil, Date.parse(member.out.until));
        }
      }
    }, 20);
    cleanups.push(() => clearInterval(sampler));
    // The window: six renewals, well inside the 30 s ejection (bounded at 20 s).
    await waitFor(
      () => renewed.length - renewalsBefore >= 6,
      'six renewals within the ejection',
      20_000,
    );
    clearInterval(sampler);
    await load.stop();
    const windowMs = Date.now() - ejectedAt;

    expect(windowMs).toBeLessThan(30_000);
    expect(load.ok).toBeGreaterThan(0);
    expect({
      callsToFailingBackend: bad.calls() - before,
      samplesInRotation: backInRotation,
      ejectionRestartedByMs: latestUntil - until,
    }).toEqual({ callsToFailingBackend: 0, samplesInRotation: 0, ejectionRestartedByMs: 0 });
    for (const member of keptOn(pool, bad.url)) {
      expect(member.out).toMatchObject({ reason: 'ejected' });
    }
  }, 40_000);
});
