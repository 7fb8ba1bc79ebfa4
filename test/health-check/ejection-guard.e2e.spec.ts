/**
 * Issue 18, defect 7: the half-pool guard of outlier ejection must count the members that
 * are serving (connected and in rotation), not every member the pool keeps. The rule pinned
 * here: an ejection is refused when the members still serving after it, times two, would be
 * fewer than the pool's size. With two targets, one a closed port, two of four members
 * serve; ejecting either would leave one (1 x 2 < 4), so neither is ejected and the pool
 * keeps serving.
 *
 * Failure seen on the code before the lifecycle rewrite (commit 19fef65), run with
 *   node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand \
 *     test/health-check/ejection-guard.e2e.spec.ts
 * both connected members were ejected (the guard counted the two members on the closed port
 * as in rotation): `ready` sampled down to 0, no `memberOutHeld` event, two `memberOut`
 * ejections each leaving 1 and then 0 members serving, and a call afterwards failed
 * UNAVAILABLE with no member in rotation (for the whole 30 s ejection).
 */
import diagnostics from 'node:diagnostics_channel';
import { POOL_EVENTS, type MemberOutEvent, type PoolMemberInfo } from 'nestjs-grpc-pool';
import { collect } from '../adaptive/events.js';
import { describeFailures, echoCall } from '../reliability/calls.js';
import { closedPort } from '../support/closed-port.js';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';
import { startPoolApp } from '../support/pool-app.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Connected, kept and held by nothing: a member the strategy may pick. */
const serving = (members: readonly PoolMemberInfo[]) =>
  members.filter((m) => m.state === 'READY' && !m.draining && m.out === undefined).length;

describe('the ejection guard counts serving members', () => {
  it('two targets, one dead, size 4: the connected backend failing ejects no member below half the pool serving', async () => {
    const good = await EchoServer.start();
    cleanups.push(() => good.stop());
    const dead = `127.0.0.1:${await closedPort()}`;

    const app = await startPoolApp({
      name: 'guard',
      url: [good.url, dead],
      size: 4,
      drainTimeoutMs: 100,
      backoff: { initialMs: 200, maxMs: 500 },
      outlierEjection: { consecutiveFailures: 3, baseEjectionMs: 30_000, maxEjectionMs: 60_000 },
    });
    cleanups.push(() => app.close());
    const pool = app.pool;
    // Each ejection, with the members still serving as status() shows them when it is told
    // (synchronously, where the pool publishes it).
    const ejections: Array<{ memberId: number; servingAfter: number; size: number }> = [];
    const outs = collect<MemberOutEvent>(POOL_EVENTS.memberOut);
    cleanups.push(outs.stop);
    const held = collect<MemberOutEvent>(POOL_EVENTS.memberOutHeld);
    cleanups.push(held.stop);
    const onOut = (message: unknown) => {
      const status = pool.status();
      ejections.push({
        memberId: (message as MemberOutEvent).memberId,
        servingAfter: serving(status.members),
        size: status.size,
      });
    };
    diagnostics.subscribe(POOL_EVENTS.memberOut, onOut);
    cleanups.push(() => diagnostics.unsubscribe(POOL_EVENTS.memberOut, onOut));

    await waitFor(() => pool.status().ready === 2, "the good target's two members ready");

    let leastReady = pool.status().ready;
    const sampler = setInterval(() => {
      leastReady = Math.min(leastReady, pool.status().ready);
    }, 5);
    cleanups.push(() => clearInterval(sampler));

    // The good backend starts failing: every call ends UNAVAILABLE. Round-robin over two
    // members: 3 failures in a row on each within 6 calls; bounded at 24 calls.
    for (let i = 0; i < 24 && held.events.length === 0 && outs.events.length < 2; i++) {
      await expect(unary(pool.channel, { failCode: 14 })).rejects.toMatchObject({ code: 14 });
    }
    // A window where nothing may happen: the slot table applies an ejection through its
    // queue within a few ms, and the sampler must see the ready count stay up meanwhile.
    // 250 ms is 50x what that takes here; it only bounds how long we look.
    await new Promise((resolve) => setTimeout(resolve, 250));
    // The backend recovers: a call must find a member in rotation at once.
    const after = await echoCall(pool.channel, { message: 'ok' }, { timeoutMs: 2_000 });
    clearInterval(sampler);

    expect({
      leastReady,
      held: held.events.length > 0,
      ejectionsBelowHalf: ejections.filter((e) => e.servingAfter * 2 < e.size),
      callAfter: describeFailures([after]),
    }).toEqual({ leastReady: 2, held: true, ejectionsBelowHalf: [], callAfter: [] });
    expect(held.events[0]).toMatchObject({ pool: 'guard', reason: 'ejected', size: 4 });
    expect(held.events[0].target).toBe(good.url);
  });
});
