/**
 * What `npm run bench` measures, and for how long: every count and duration in one place.
 * `--quick` keeps every scenario and every arm but runs fewer, shorter rounds.
 */
export const STRATEGIES = ['round-robin', 'random', 'power-of-two', 'least-loaded'];

/** The reset storm's arms, each run in a process of its own (see `reset.js`). */
export const RESET_ARMS = ['grpc-js', 'nest-proxy', 'grpc-gcp', 'pool', 'pool-no-budget'];

export function benchPlan(quick) {
  /** The full run's figure, or the quick run's. */
  const choose = (full, short) => (quick ? short : full);
  return {
    hotPath: {
      sizes: [2, 8, 64],
      // Per benchmark and rep: warm-up, then mitata samples for at least minCpuMs (mitata's
      // default is 642 ms). Floor and pool alternate rep by rep; the median rep is kept.
      warmupMs: choose(200, 50),
      minCpuMs: choose(400, 80),
      reps: choose(3, 1),
      // createCall: this many create+cancel pairs per sample, then one event-loop turn.
      createCallBatch: 256,
      createCallSize: 8,
      // mixed: one pool of this size per strategy, all in one process.
      mixedSize: 8,
    },
    a: {
      title: 'Scenario (a): tiny echo, pool overhead',
      size: 4,
      inFlight: [1, 100],
      request: { message: 'x', delayMs: 0 },
      rounds: choose(7, 2),
      warmupMs: choose(1_000, 200),
      rampMs: choose(200, 100),
      measureMs: choose(1_200, 300),
    },
    b: {
      // The stream cap binds, the CPU does not: one connection carries at most 100 calls per
      // 500 ms (200 req/s) however idle the machine, and 1,600 calls need 16 such caps.
      title: 'Scenario (b): server limited to 100 streams, 500 ms handler, 1,600 in flight',
      size: 8,
      issue3Size: 4,
      maxConcurrentStreams: 100,
      inFlight: [1_600],
      request: { message: 'x', delayMs: 500 },
      rounds: choose(3, 1),
      // Long enough for every arm to reach its steady state (grpc-gcp opens its channels as
      // the load arrives) and for the window to hold many 500 ms calls per slot.
      warmupMs: choose(3_000, 1_500),
      rampMs: choose(1_500, 1_000),
      measureMs: choose(5_000, 2_000),
    },
    step: {
      title: 'Step load: 100 → 1,600 → 100 calls in flight, server limited to 100 streams',
      maxConcurrentStreams: 100,
      request: { message: 'x', delayMs: 500 },
      // In flight per phase and how long it lasts. The last phase of the autoscaled arm runs
      // until the pool is back to `shrunkMembers` (then `afterShrunkMs` more) or `maxMs`.
      phases: [
        { inFlight: 100, ms: choose(15_000, 5_000) },
        { inFlight: 1_600, ms: choose(30_000, 12_000) },
        { inFlight: 100, ms: choose(30_000, 8_000), maxMs: choose(130_000, 40_000) },
      ],
      shrunkMembers: 3,
      afterShrunkMs: 5_000,
      fixedSizes: [1, 8],
      gcpMaxSize: 8,
      // The autoscaler with its shrink windows scaled down (30 s by default) so the step
      // down fits in the run: 2 s windows (3 in a row before a shrink), the rest left at the
      // defaults (streamsPerMember 100, grow at 70 %, shrink at 60 %, 1 s cooldown).
      autoscale: { min: 1, max: 16, sampleIntervalMs: choose(2_000, 1_000) },
      // Goals: at 1,600 in flight, >= 90 % of fixed 8 within 10 s of the step; back to
      // <= 3 members within 120 s of the step down.
      reachShare: 0.9,
      reachWithinS: 10,
      shrinkWithinS: 120,
    },
    renewal: {
      title: 'Renewal under load: server closes connections at 2 s (1 s grace)',
      size: 8,
      gcpMaxSize: 8,
      channelArgs: {
        'grpc.max_connection_age_ms': 2_000,
        'grpc.max_connection_age_grace_ms': 1_000,
      },
      // Renew before the server's cut: 1.5 s < 2 s minus its 10 % jitter.
      maxConnectionAgeMs: 1_500,
      // 200 calls of 20 ms each: every member busy, far below the CPU's limit.
      inFlight: [200],
      request: { message: 'x', delayMs: 20 },
      rounds: choose(2, 1),
      warmupMs: choose(2_000, 1_000),
      rampMs: choose(1_000, 500),
      measureMs: choose(15_000, 5_000),
      p99Margin: 0.1,
    },
    reset: {
      title: 'Reset storm: calls ending by deadline against Node’s rapid-reset guard',
      // Expiring calls: the handler waits longer than the deadline, so every one of them
      // ends with a RST_STREAM from the client.
      rates: [50, 100, 200],
      expiring: { request: { message: 'x', delayMs: 2_000 }, deadlineMs: 100 },
      // Calls that should succeed: 50/s, each in flight 200 ms (about 10 at any time), so a
      // session the server terminates takes some of them with it.
      steady: { perSecond: 50, request: { message: 'y', delayMs: 200 } },
      poolSize: 2,
      // Per rate, each arm on fresh connections (a full bucket at the server): Node's guard
      // trips after 1000 / (rate - 33) s, 15 s at 100/s, about 60 s at 50/s.
      cellMs: choose(30_000, 8_000),
    },
    c: {
      title: 'Scenario (c): two backends, one 10x slower',
      size: 4,
      slowdown: 10,
      // Enough calls to keep 4 members busy, few enough that neither server nor client is
      // short of CPU on 2 cores: the slow backend, not the machine, should set the tail.
      inFlight: [16],
      request: { message: 'x', delayMs: 2 },
      rounds: choose(5, 2),
      warmupMs: choose(1_000, 300),
      rampMs: choose(300, 150),
      measureMs: choose(1_500, 400),
    },
    skew: {
      title: 'Skew: pool of 8 over two backends, 20 ms and 200 ms handlers, 50 in flight',
      size: 8,
      slowdown: 10,
      inFlight: [50],
      request: { message: 'x', delayMs: 20 },
      rounds: choose(5, 2),
      warmupMs: choose(2_000, 1_000),
      // Long enough for the costs of a peak-ewma pool, decayed while other arms ran, to rise
      // back to the slow backend's latency before the window opens.
      rampMs: choose(1_000, 600),
      measureMs: choose(3_000, 1_000),
      // Recovery: steady load with the slow backend slow, then it turns fast; 1 s windows
      // until its share is back near 50 % (>= 40 %), or the bound.
      recoverySteadyMs: choose(10_000, 5_000),
      recoveryWindowMs: 1_000,
      recoveryShare: 0.4,
      recoveryBoundMs: 60_000,
    },
    health: {
      // One of three backends NOT_SERVING under load, then SERVING again (bench/health.js).
      size: 6,
      inFlight: 30,
      delayMs: 5,
      intervalMs: 1_000,
      timeoutMs: 500,
      phaseMs: choose(3_000, 1_000),
      maxCalls: 2_000_000,
    },
    rolling: {
      // Issue 18: three backends behind one name, each down 1 s in turn, graceful and forced;
      // the pool and one round_robin channel side by side in the same roll. Not shortened by
      // --quick: the roll is the measurement (about 8 s a mode).
      title: 'Rolling restart: three backends behind one name, each down 1 s in turn',
      hosts: ['127.0.0.2', '127.0.0.3', '127.0.0.4'],
      size: 6,
      modes: ['graceful', 'force'],
      // 8 loops of 20 ms calls per arm: about 400 calls/s each, 800 in all.
      concurrency: 8,
      request: { message: 'x', delayMs: 20 },
      deadlineMs: 5_000,
      maxCallsPerLoop: 5_000,
      downMs: 1_000,
      upMs: 2_000,
      // Even spread is the goal within 5 s of the last return; waited for up to 5x that.
      evenWithinMs: 5_000,
      evenBoundMs: 25_000,
      // Calls per backend counted over this window once the spread is even.
      afterMs: 2_000,
    },
    d: {
      title: 'Scenario (d): pool start-up, module init to all members ready',
      sizes: [1, 8, 32],
      repeats: choose(10, 3),
    },
  };
}
