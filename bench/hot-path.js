/**
 * The hot path under mitata, run as a child of `run.js` (with --expose-gc, so mitata
 * collects garbage after each warm-up) with argv[2] = JSON { mode, strategy?, plan }.
 *
 * mode 'pick': `getChannel()` of one strategy at each pool size, beside the floor (a bare
 *   array round-robin pick over the same members) measured in the same process, first on an
 *   idle pool, then on a busy one (every member holding 1-3 real calls open, so
 *   least-loaded and power-of-two read real, unequal counts). One strategy per process:
 *   a real app has one strategy, so the call site in `getChannel()` sees one class.
 * mode 'mixed': one process, one pool per built-in strategy (and one with a user's
 *   `PoolStrategy`), every pool picked through the same `getChannel()` and `pool.channel`
 *   call sites before and while it is timed: an app with several pools, each its own
 *   strategy. Each built-in's `getChannel()` beside the floor, idle and busy.
 * mode 'create-call': `pool.channel.createCall()` beside a raw grpc-js `Channel.createCall()`
 *   on the same server, each call cancelled at once (it never reaches the network).
 *
 * Allocation is mitata's heap figure: V8's used heap (+ malloced memory) read before and
 * after each batch of iterations, divided by the batch (batches with a GC are left out);
 * reported as the median batch (and mitata's mean beside it).
 */
import grpc from '@grpc/grpc-js';
import { getHeapStatistics } from 'node:v8';
import { do_not_optimize, measure } from 'mitata';
import { EchoClient } from './support/echo-proto.js';
import { STRATEGIES } from './plan.js';
import { startPools } from './support/pools.js';
import { startServer } from './support/servers.js';
import { median, round } from './support/stats.js';

const { mode, strategy, plan } = JSON.parse(process.argv[2]);
const log = (line) => console.log(`[hot-path${strategy ? ` ${strategy}` : ''}] ${line}`);

/**
 * mitata's own heap reading on Node (see mitata's `B.run`), also kept here: mitata reports
 * the mean of the per-batch figures, which a rare batch with background V8 activity can
 * move by a few bytes; the median batch is the steadier "bytes per iteration".
 */
function heapReader() {
  const readings = new Float64Array(1 << 21); // preallocated: recording allocates nothing
  let count = 0;
  return {
    read() {
      const stats = getHeapStatistics();
      const value = stats.used_heap_size + stats.malloced_memory;
      if (count < readings.length) readings[count++] = value;
      return value;
    },
    /** mitata reads before and after every batch: the median positive difference. */
    medianPerIteration(perIteration) {
      const deltas = [];
      for (let i = 0; i + 1 < count; i += 2) {
        const delta = readings[i + 1] - readings[i];
        if (delta >= 0) deltas.push(delta / perIteration);
      }
      return median(deltas);
    },
  };
}

/**
 * Runs each of `fns` under mitata, interleaved (A B A B …) `plan.reps` times; for each, the
 * median over the reps of mitata's figures, per iteration.
 */
async function bench(fns, perIteration = 1) {
  // Warm-up beyond mitata's own few calls, so that no rep measures code still being compiled.
  for (const fn of fns) {
    const until = performance.now() + plan.warmupMs;
    while (performance.now() < until) {
      for (let i = 0; i < 1_000; i++) {
        const result = fn();
        if (result instanceof Promise) await result;
      }
    }
  }
  const reps = fns.map(() => []);
  for (let rep = 0; rep < plan.reps; rep++) {
    for (let i = 0; i < fns.length; i++) {
      // One event-loop turn first: pending I/O and ticks must not land inside a measurement.
      await new Promise((resolve) => setImmediate(resolve));
      const heap = heapReader();
      const stats = await measure(fns[i], { heap: heap.read, min_cpu_time: plan.minCpuMs * 1e6 });
      // Iterations per sample: mitata batches fast functions (ticks = samples × batch).
      stats.heapMedian = heap.medianPerIteration(stats.ticks / stats.samples.length);
      reps[i].push(stats);
    }
  }
  const figure = (stats, key) => round(median(stats.map(key)) / perIteration);
  return reps.map((stats) => ({
    p50Ns: figure(stats, (s) => s.p50),
    avgNs: figure(stats, (s) => s.avg),
    p99Ns: figure(stats, (s) => s.p99),
    heapBytes: figure(stats, (s) => s.heapMedian),
    heapBytesMitataAvg: figure(stats, (s) => s.heap?.avg ?? NaN),
    iterations: stats.reduce((sum, s) => sum + s.ticks, 0) * perIteration,
  }));
}

/** The floor: a bare round-robin pick over a plain array of the same members. */
function floorPicker(members) {
  const slots = [...members];
  const count = slots.length;
  let next = 0;
  return () => {
    let index = next;
    if (index >= count) index = 0;
    next = index + 1;
    return slots[index];
  };
}

/** Holds 1-3 real calls open on every member (a long server delay); returns the calls. */
function holdCalls(members) {
  const calls = [];
  members.forEach((member, i) => {
    const client = new EchoClient('member', grpc.credentials.createInsecure(), {
      channelOverride: member,
    });
    for (let k = 0; k <= i % 3; k++) {
      calls.push(client.Unary({ message: 'hold', delayMs: 60_000 }, () => {}));
    }
  });
  return calls;
}

async function releaseCalls(calls, members) {
  for (const call of calls) call.cancel();
  const deadline = Date.now() + 10_000;
  while (members.some((member) => member.inFlight !== 0)) {
    if (Date.now() > deadline) throw new Error('in-flight counts did not return to 0');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function pickMode(url) {
  const app = await startPools(
    plan.sizes.map((size) => ({ name: `s${size}`, strategy, size, url })),
  );
  const rows = [];
  for (const size of plan.sizes) {
    const pool = app.pool(`s${size}`);
    const members = app.state(`s${size}`).slots;
    const floor = floorPicker(members);
    for (const load of ['idle', 'busy']) {
      const held = load === 'busy' ? holdCalls(members) : [];
      if (load === 'busy') {
        // Let the held calls reach the server before anything is timed.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const expected = members.map((_, i) => (i % 3) + 1);
        if (members.some((member, i) => member.inFlight !== expected[i])) {
          throw new Error(`busy pool: in-flight counts are not 1-3 per member`);
        }
      }
      const [floorStats, poolStats] = await bench([
        () => do_not_optimize(floor()),
        () => do_not_optimize(pool.getChannel()),
      ]);
      await releaseCalls(held, members);
      const row = { size, load, floor: floorStats, pool: poolStats };
      rows.push(row);
      log(
        `size ${size} ${load}: getChannel ${poolStats.p50Ns} ns (${poolStats.heapBytes} B), floor ${floorStats.p50Ns} ns (${floorStats.heapBytes} B)`,
      );
    }
  }
  await app.close();
  return { mode, strategy, rows };
}

/** A user's strategy, as the docs show one: the pick call sites also see a plain object. */
const userStrategy = {
  name: 'first-idle',
  pick: (members, count) => (members[0].inFlight === 0 || count === 1 ? 0 : 1),
};

/**
 * `getChannel()` of each pool from a call site of its own, as in an app where each service
 * uses its pool (four literal functions: V8 keeps feedback per place in the source, so a
 * `.map` making them would give all four one call site).
 */
function ownCallSites([a, b, c, d]) {
  return [
    () => do_not_optimize(a.getChannel()),
    () => do_not_optimize(b.getChannel()),
    () => do_not_optimize(c.getChannel()),
    () => do_not_optimize(d.getChannel()),
  ];
}

async function mixedMode(url) {
  const size = plan.mixedSize;
  const kinds = [...STRATEGIES, 'peak-ewma'];
  const app = await startPools([
    ...kinds.map((kind) => ({ name: kind, strategy: kind, size, url })),
    { name: 'user', strategy: userStrategy, size, url },
  ]);
  const pools = [...kinds, 'user'].map((name) => app.pool(name));
  // Every pool through the shared call sites: getChannel() and pool.channel's createCall.
  for (let r = 0; r < 100_000; r++) {
    for (const pool of pools) do_not_optimize(pool.getChannel());
  }
  for (const pool of pools) {
    for (let r = 0; r < 2_000; r++) {
      const call = pool.channel.createCall(
        '/echo.Echo/Unary',
        Infinity,
        undefined,
        null,
        undefined,
      );
      call.cancelWithStatus(grpc.status.CANCELLED, 'bench');
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  const members = (name) => app.state(name).slots;
  const floor = floorPicker(members(STRATEGIES[0]));
  const rows = [];
  for (const load of ['idle', 'busy']) {
    const held = load === 'busy' ? kinds.flatMap((kind) => holdCalls(members(kind))) : [];
    if (load === 'busy') await new Promise((resolve) => setTimeout(resolve, 300));
    const [floorStats, ...poolStats] = await bench([
      () => do_not_optimize(floor()),
      ...ownCallSites(STRATEGIES.map((kind) => app.pool(kind))),
    ]);
    for (const call of held) call.cancel();
    for (const kind of kinds) await releaseCalls([], members(kind));
    STRATEGIES.forEach((strategy, i) => {
      rows.push({ strategy, size, load, floor: floorStats, pool: poolStats[i] });
      log(
        `mixed ${strategy} size ${size} ${load}: getChannel ${poolStats[i].p50Ns} ns (${poolStats[i].heapBytes} B), floor ${floorStats.p50Ns} ns (${round(poolStats[i].p50Ns / floorStats.p50Ns)}x)`,
      );
    });
  }
  await app.close();
  return { mode, size, rows };
}

async function createCallMode(url) {
  const size = plan.createCallSize;
  const app = await startPools([{ name: 'pool', strategy: 'round-robin', size, url }]);
  const raw = new grpc.Channel(url, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
  await channelReady(raw);
  const batch = plan.createCallBatch;
  const method = '/echo.Echo/Unary';
  // A batch of create+cancel pairs, then one event-loop turn: grpc-js delivers the
  // cancellation on process.nextTick, and the ticks must run before the next batch.
  const createAndCancel = (channel) => async () => {
    for (let i = 0; i < batch; i++) {
      const call = channel.createCall(method, Infinity, undefined, null, undefined);
      call.cancelWithStatus(grpc.status.CANCELLED, 'bench');
      do_not_optimize(call);
    }
    await new Promise((resolve) => setImmediate(resolve));
  };
  const [rawStats, poolStats] = await bench(
    [createAndCancel(raw), createAndCancel(app.pool('pool').channel)],
    batch,
  );
  log(
    `createCall+cancel: pool.channel ${poolStats.p50Ns} ns (${poolStats.heapBytes} B), raw Channel ${rawStats.p50Ns} ns (${rawStats.heapBytes} B)`,
  );
  raw.close();
  await app.close();
  return { mode, size, batch, raw: rawStats, pool: poolStats };
}

function channelReady(channel) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const check = () => {
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) return resolve();
      channel.watchConnectivityState(state, deadline, (error) => (error ? reject(error) : check()));
    };
    check();
  });
}

async function main() {
  const server = await startServer({});
  try {
    const modes = { pick: pickMode, mixed: mixedMode, 'create-call': createCallMode };
    const result = await modes[mode](server.url);
    process.send({ type: 'result', result });
  } finally {
    server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
