/**
 * Scenario (d), pool start-up, run as a child of `run.js` with argv[2] = JSON { plan }:
 * the time from `app.init()` (the module's init, when members start connecting) until every
 * member is READY and holds a slot, for each pool size. Beside it, the floor: as many raw
 * grpc-js channels (each with its own connection) connecting at once, timed the same way.
 * Pool and floor alternate, repeat by repeat.
 */
import grpc from '@grpc/grpc-js';
import { Test } from '@nestjs/testing';
import { GrpcPoolModule, getPoolStateToken } from 'nestjs-grpc-pool';
import { startServer } from './support/servers.js';
import { median, round } from './support/stats.js';

const { plan } = JSON.parse(process.argv[2]);
const log = (line) => console.log(`[d] ${line}`);
const turn = () => new Promise((resolve) => setImmediate(resolve));
const TIMEOUT_MS = 20_000;

/** Polls `ready()` every event-loop turn; ms from `start` until it is true. */
async function timeUntil(start, ready, what) {
  while (!ready()) {
    if (performance.now() - start > TIMEOUT_MS) throw new Error(`${what}: not ready in time`);
    await turn();
  }
  return performance.now() - start;
}

async function poolStartup(url, size) {
  const app = await Test.createTestingModule({
    imports: [GrpcPoolModule.forRoot({ name: 'startup', url, size })],
  }).compile();
  const state = app.get(getPoolStateToken('startup'));
  const start = performance.now();
  await app.init();
  const firstMs = await timeUntil(start, () => state.count > 0, `pool of ${size}`);
  const allMs = await timeUntil(start, () => state.count === size, `pool of ${size}`);
  await app.close();
  return { firstMs, allMs };
}

async function rawStartup(url, size) {
  const start = performance.now();
  const channels = Array.from(
    { length: size },
    (_, id) =>
      new grpc.Channel(url, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'bench.channel_id': id,
      }),
  );
  const isReady = (channel) => channel.getConnectivityState(true) === grpc.connectivityState.READY;
  const firstMs = await timeUntil(start, () => channels.some(isReady), `${size} channels`);
  const allMs = await timeUntil(start, () => channels.every(isReady), `${size} channels`);
  for (const channel of channels) channel.close();
  return { firstMs, allMs };
}

async function main() {
  const server = await startServer({});
  const sizes = [];
  try {
    // One unrecorded start of each kind: module loading and JIT are not start-up time.
    await poolStartup(server.url, 1);
    await rawStartup(server.url, 1);
    for (const size of plan.sizes) {
      const pool = [];
      const raw = [];
      for (let repeat = 0; repeat < plan.repeats; repeat++) {
        pool.push(await poolStartup(server.url, size));
        raw.push(await rawStartup(server.url, size));
      }
      const summary = (runs) => ({
        firstMs: round(median(runs.map((r) => r.firstMs))),
        allMs: round(median(runs.map((r) => r.allMs))),
        allMsRuns: runs.map((r) => round(r.allMs)),
      });
      const row = { size, pool: summary(pool), raw: summary(raw) };
      sizes.push(row);
      log(
        `size ${size}: pool all ready ${row.pool.allMs} ms (first ${row.pool.firstMs} ms), ${size} raw channels ${row.raw.allMs} ms`,
      );
    }
  } finally {
    server.stop();
  }
  process.send({ type: 'result', result: { plan, sizes } });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
