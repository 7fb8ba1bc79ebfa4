import * as grpc from '@grpc/grpc-js';
import type { AddressLookup, PoolService } from 'nestjs-grpc-pool';
import { EchoServer, sleep, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { SteadyLoad, describeFailures, echoBurst, type CallOutcome } from './calls.js';

/**
 * A Kubernetes-style rolling restart (issue 18): three backends behind one name, each in
 * turn shut down for 1 s and started again on the same ip:port, under steady unary load.
 * The pool (six members, default options; its `lookup` answers the three loopback addresses for the
 * name) runs side by side with the bar it must meet: one plain grpc-js channel with
 * `round_robin` over the same three addresses.
 */
const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const DOWN_MS = 1_000;
/** Up between one backend's return and the next one's shutdown. */
const UP_MS = 2_000;
/** Spread must be even again within this long after the last backend returns. */
const EVEN_WITHIN_MS = 5_000;
const CONCURRENCY = 6;
/** 6 loops of 20 ms calls: about 300 calls/s per channel, bounded per loop in count. */
const REQUEST = { message: 'roll', delayMs: 20 };
const MAX_CALLS_PER_LOOP = 2_000;

/** Three echo servers on one port, one per loopback address: one name:PORT, three backends. */
async function threeBackends(): Promise<EchoServer[]> {
  for (let attempt = 0; ; attempt++) {
    const first = await EchoServer.start({ host: HOSTS[0] });
    try {
      const rest = await Promise.all(
        HOSTS.slice(1).map((host) => EchoServer.start({ host, port: first.port })),
      );
      return [first, ...rest];
    } catch (error) {
      first.stop();
      if (attempt === 5) throw error;
    }
  }
}

const lookup: AddressLookup = async () => HOSTS.map((address) => ({ address }));

/** Serving members per backend address, in `HOSTS` order (0 where none). */
function membersPerBackend(pool: PoolService, port: number): number[] {
  const counts = HOSTS.map(() => 0);
  for (const member of pool.status().members) {
    const index = HOSTS.findIndex((host) => member.address === `${host}:${port}`);
    if (member.state === 'READY' && !member.draining && index >= 0) counts[index]++;
  }
  return counts;
}

/** Every backend's member count within 1 of the mean (size 4 over 3: 1/1/2 or 1/2/1 …). */
function even(counts: readonly number[], size: number): boolean {
  const mean = size / counts.length;
  return counts.reduce((a, b) => a + b, 0) === size && counts.every((n) => Math.abs(n - mean) <= 1);
}

/**
 * A call that never left the client: queued on a member when its backend went, retried by
 * grpc-js on that member's own channel, which then dialled the closed port. Re-picking it on
 * another member (gRPC A6, issue 18 defect 2) is separate work; until it lands, these fail.
 */
/** grpc-js's words for a call that never reached a server: the pool re-picks these. */
const NEVER_LEFT = 'No connection established';
const neverLeft = (outcome: CallOutcome) => outcome.details.startsWith(NEVER_LEFT);

/** A count per failure text, so a failing assertion reads at a glance. */
function summarize(outcomes: readonly CallOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of describeFailures(outcomes)) counts[line] = (counts[line] ?? 0) + 1;
  return counts;
}

describe('rolling restart of three backends behind one name', () => {
  const apps: PoolApp[] = [];
  const channels: grpc.Channel[] = [];
  let servers: EchoServer[] = [];

  afterEach(async () => {
    channels.splice(0).forEach((channel) => channel.close());
    await Promise.all(apps.splice(0).map((app) => app.close()));
    servers.forEach((server) => server.stop());
    servers = [];
  });

  /** The pool (default options) and one round_robin channel over the same three addresses. */
  async function pair(port: number) {
    // Six members, as in the issue's measurement (2/2/2 when even); every other option default.
    const app = await startPoolApp({ url: `rolling.test:${port}`, size: 6, lookup });
    apps.push(app);
    // The name's three addresses as grpc-js's own static resolver takes them: what a
    // `dns:///name` target with three A records gives a round_robin channel.
    const roundRobin = new grpc.Channel(
      `ipv4:${HOSTS.map((host) => `${host}:${port}`).join(',')}`,
      grpc.credentials.createInsecure(),
      { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) },
    );
    channels.push(roundRobin);
    const size = app.pool.status().size;
    await waitFor(() => even(membersPerBackend(app.pool, port), size), 'pool spread evenly');
    roundRobin.getConnectivityState(true);
    await waitFor(
      () => roundRobin.getConnectivityState(false) === grpc.connectivityState.READY,
      'round_robin channel ready',
    );
    return { pool: app.pool, roundRobin, size };
  }

  for (const mode of ['graceful', 'force'] as const) {
    it(`${mode} shutdown (${mode === 'graceful' ? 'tryShutdown, GOAWAY' : 'forceShutdown'}), 1 s down each: spread even within 5 s of the last return; ${mode === 'graceful' ? '0 failed calls' : 'no more failures than round_robin'}; calls that never left the client re-picked`, async () => {
      servers = await threeBackends();
      const port = servers[0].port;
      const { pool, roundRobin, size } = await pair(port);
      const load = (channel: () => grpc.ChannelInterface) =>
        new SteadyLoad(channel, CONCURRENCY, REQUEST, { timeoutMs: 5_000 }, MAX_CALLS_PER_LOOP);
      const poolLoad = load(() => pool.channel);
      const rrLoad = load(() => roundRobin);

      for (const server of servers) {
        const down =
          mode === 'graceful' ? server.shutdownGracefully() : (server.stop(), Promise.resolve());
        // The restart itself: the scenario's 1 s of downtime, not a wait for a condition.
        await sleep(DOWN_MS);
        await down;
        await server.listen();
        if (server !== servers[servers.length - 1]) await sleep(UP_MS);
      }
      const returned = Date.now();
      let evenAfterMs = -1;
      await waitFor(
        () => even(membersPerBackend(pool, port), size),
        'pool spread evenly after the roll',
        5 * EVEN_WITHIN_MS,
      )
        .then(() => (evenAfterMs = Date.now() - returned))
        .catch(() => undefined);
      const spread = membersPerBackend(pool, port);
      // Logged, not asserted: when every backend holds exactly its share (2/2/2).
      let equalAfterMs = -1;
      await waitFor(
        () => membersPerBackend(pool, port).every((n) => n === size / HOSTS.length),
        'equal shares',
        EVEN_WITHIN_MS,
      )
        .then(() => (equalAfterMs = Date.now() - returned))
        .catch(() => undefined);
      await Promise.all([poolLoad.stop(), rrLoad.stop()]);

      const poolFailed = poolLoad.failures.length;
      const rrFailed = rrLoad.failures.length;
      console.log(
        `rolling restart (${mode}): pool ${poolFailed} of ${poolLoad.outcomes.length} failed, ` +
          `round_robin ${rrFailed} of ${rrLoad.outcomes.length}; pool members per backend ` +
          `${spread.join('/')}, even ${evenAfterMs >= 0 ? `${evenAfterMs} ms` : 'never (25 s)'} ` +
          `(equal shares ${equalAfterMs >= 0 ? `${equalAfterMs} ms` : 'not within 5 s'}) ` +
          `after the last return; pool failures ${JSON.stringify(summarize(poolLoad.outcomes))}; ` +
          `round_robin failures ${JSON.stringify(summarize(rrLoad.outcomes))}`,
      );
      // Both channels carried the load throughout (about 300 calls/s each for ~10 s).
      expect(poolLoad.ok).toBeGreaterThan(1_000);
      expect(rrLoad.ok).toBeGreaterThan(1_000);
      // The spread's side: members back on every backend, evenly, within 5 s.
      expect(even(spread, size)).toBe(true);
      expect(evenAfterMs).toBeGreaterThanOrEqual(0);
      expect(evenAfterMs).toBeLessThanOrEqual(EVEN_WITHIN_MS);
      // Side by side over the same roll, round_robin is the bar. A forced cut fails the calls
      // in flight on the backend, for both alike (about 2 per cut here): 3 of slack.
      const bound = mode === 'graceful' ? 0 : rrFailed + 3;
      const repick = poolLoad.outcomes.filter(neverLeft);
      // Every other failure is gone already (no member left on a backend that is down)...
      expect(poolFailed - repick.length).toBeLessThanOrEqual(bound);
      // ...and calls that never left the client were re-picked on another member.
      expect(poolFailed).toBeLessThanOrEqual(bound);
    }, 90_000);
  }

  it('40 calls fired in the same tick as a backend’s tryShutdown: none fails, as with round_robin (re-picked on another member)', async () => {
    servers = await threeBackends();
    const port = servers[0].port;
    const { pool, roundRobin } = await pair(port);
    const leaving = servers[1].shutdownGracefully();
    const [poolOutcomes, rrOutcomes] = await Promise.all([
      echoBurst(pool.channel, 40, { message: 'tick' }, { timeoutMs: 5_000 }),
      echoBurst(roundRobin, 40, { message: 'tick' }, { timeoutMs: 5_000 }),
    ]);
    await leaving;
    console.log(
      `same tick as tryShutdown: pool ${describeFailures(poolOutcomes).length} of 40 failed ` +
        `${JSON.stringify(summarize(poolOutcomes))}; round_robin ` +
        `${describeFailures(rrOutcomes).length} of 40`,
    );
    expect(describeFailures(rrOutcomes)).toEqual([]);
    // Before the re-pick, every call picked on the leaving backend's members failed here.
    expect(poolOutcomes.filter((outcome) => !outcome.ok && !neverLeft(outcome))).toEqual([]);
    expect(summarize(poolOutcomes)).toEqual({});
  });
});
