/**
 * What `npm run bench` measures, and for how long: every count and duration in one place.
 * `--quick` keeps every scenario and every arm but runs fewer, shorter rounds.
 */
export const STRATEGIES = ['round-robin', 'random', 'power-of-two', 'least-loaded'];

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
      title: 'Scenario (b): server limited to 100 streams, 20 ms handler, 800 in flight',
      size: 8,
      issue3Size: 4,
      maxConcurrentStreams: 100,
      inFlight: [800],
      request: { message: 'x', delayMs: 20 },
      rounds: choose(5, 2),
      warmupMs: choose(1_000, 300),
      rampMs: choose(300, 150),
      measureMs: choose(1_500, 400),
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
    d: {
      title: 'Scenario (d): pool start-up, module init to all members ready',
      sizes: [1, 8, 32],
      repeats: choose(10, 3),
    },
  };
}
