import fc from 'fast-check';
import { Autoscaler, type AutoscaleHost } from '../../lib/pool/autoscaler.js';
import { PoolScaler } from '../../lib/pool/pool-scaler.js';
import type { PoolMembers } from '../../lib/pool/pool-members.js';
import { PoolStateService } from '../../lib/state/pool-state.service.js';
import { settle } from './fake-channel.js';
import { timeoutFor } from './model-runs.js';

/**
 * Races of the real `Autoscaler` and the real `PoolScaler` over a real `PoolStateService`:
 * `fc.scheduler` decides when each busy signal, shrink window, manual scale call and member
 * failure is issued, and when (and whether) each new member connects. Checked at every
 * step: the size within the autoscaler's bounds (which only `moveBounds` moves), never two
 * adds at once; at the end, exactly the connected, kept members hold slots.
 */

const RUNS = 300 * Math.max(1, Number(process.env.MODEL_RUNS_FACTOR) || 1);
const OPTIONS = {
  min: 2,
  max: 5,
  streamsPerMember: 10,
  scaleUpAt: 0.7,
  scaleDownAt: 0.6,
  cooldownMs: 0,
  sampleIntervalMs: 1_000,
  windows: 2,
} as const;

class Worker {
  up = false;
  stopped = false;
  readonly member = { inFlight: 0 };
  constructor(readonly id: number) {}
}

/** `PoolMembers` as the scaler uses it: workers connect (or never do) when the scheduler says. */
class Workers {
  readonly all: Worker[] = [];
  readonly ready = new Map<Worker, Promise<boolean>>();
  private made = 0;

  constructor(
    private readonly state: PoolStateService<Worker, { inFlight: number }>,
    private readonly s: fc.Scheduler,
    private readonly connects: readonly boolean[],
  ) {}

  get size(): number {
    return this.all.length;
  }

  add(n: number): Worker[] {
    return Array.from({ length: n }, () => {
      const worker = new Worker(this.made++);
      this.all.push(worker);
      const connects = this.connects[worker.id % this.connects.length];
      this.ready.set(
        worker,
        this.s
          .schedule(Promise.resolve(connects), `worker ${worker.id} connects: ${connects}`)
          .then(async (ok) => {
            if (!ok || worker.stopped) return false;
            worker.up = true;
            await this.state.register(worker, worker.member);
            return true;
          }),
      );
      return worker;
    });
  }

  fail(pick: number): void {
    const worker = this.all[pick % Math.max(1, this.all.length)];
    if (worker?.up) {
      worker.up = false;
      void this.state.unregister(worker);
    }
  }

  remove(n: number): Promise<number> {
    const victims = [...this.all]
      .sort((a, b) => Number(a.up) - Number(b.up) || a.member.inFlight - b.member.inFlight)
      .slice(0, n);
    for (const victim of victims) {
      this.all.splice(this.all.indexOf(victim), 1);
      victim.stopped = true;
      victim.up = false;
    }
    return Promise.all(victims.map((victim) => this.state.unregister(victim))).then(() => 0);
  }

  removeAll(): Promise<number> {
    return this.remove(this.all.length);
  }
}

type Op =
  | { kind: 'busy' | 'idle window' }
  | { kind: 'fail'; pick: number }
  | { kind: 'scaleUp' | 'scaleDown'; n: number; moveBounds: boolean }
  | { kind: 'resize'; size: number; moveBounds: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'busy' as const }), weight: 5 },
  { arbitrary: fc.constant({ kind: 'idle window' as const }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('fail' as const), pick: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constantFrom('scaleUp' as const, 'scaleDown' as const),
      n: fc.integer({ min: 1, max: 3 }),
      moveBounds: fc.boolean(),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('resize' as const),
      size: fc.integer({ min: 1, max: 7 }),
      moveBounds: fc.boolean(),
    }),
    weight: 1,
  },
);

const quiet = { log() {}, warn() {}, error() {} };

describe('autoscaler races (fast-check scheduler, real Autoscaler + PoolScaler + slot table)', () => {
  it(
    `keeps the size within [min, max], one add at a time, counts exact (${RUNS} runs)`,
    async () => {
      const totals = { runs: 0, adds: 0, shrinks: 0, maxSize: 0 };
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          // Batches: the ops of one batch are issued in one synchronous burst (a busy signal
          // racing a manual scale call for the lock), the batches when the scheduler says.
          fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 10 }),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
          async (s, ops, connects) => {
            const problems: string[] = [];
            const state = new PoolStateService<Worker, { inFlight: number }>();
            const workers = new Workers(state, s, connects);
            const scaler = new PoolScaler(
              'race',
              0,
              workers as unknown as PoolMembers,
              () => false,
            );
            let growing = 0;
            const host: AutoscaleHost = {
              get size() {
                return workers.size;
              },
              ready: state.slots,
              inFlight: () => workers.all.reduce((sum, worker) => sum + worker.member.inFlight, 0),
              grow: async () => {
                if (++growing > 1) problems.push('two adds in flight at once');
                try {
                  const worker = await scaler.autoscaleUp();
                  if (worker === undefined) return undefined;
                  totals.adds++;
                  return await workers.ready.get(worker as unknown as Worker)!;
                } finally {
                  growing--;
                }
              },
              shrink: async () => {
                const removed = await scaler.autoscaleDown();
                if (removed) totals.shrinks++;
                return removed;
              },
            };
            const autoscaler = new Autoscaler('race', OPTIONS, host, quiet);
            scaler.bounds = autoscaler.bounds;
            await scaler.start(OPTIONS.min);
            const check = () => {
              const { min, max } = autoscaler.bounds;
              if (workers.size < min || workers.size > max) {
                problems.push(`size ${workers.size} outside [${min}, ${max}]`);
              }
              totals.maxSize = Math.max(totals.maxSize, workers.size);
            };
            const issue = (next: Op): void => {
              switch (next.kind) {
                case 'busy':
                  for (const member of state.slots) member.inFlight = autoscaler.mark;
                  autoscaler.onBusy();
                  return;
                case 'idle window':
                  for (const worker of workers.all) worker.member.inFlight = 0;
                  autoscaler.endWindow();
                  return;
                case 'fail':
                  return workers.fail(next.pick);
                case 'resize':
                  scaler.resize(next.size, next).catch(() => undefined);
                  return;
                default:
                  scaler[next.kind](next.n, next).catch(() => undefined);
              }
            };
            for (const [index, batch] of ops.entries()) {
              void s
                .schedule(Promise.resolve(), `${index}: ${JSON.stringify(batch)}`)
                .then(() => batch.forEach(issue));
            }
            for (;;) {
              await settle();
              check();
              if (s.count() === 0) break;
              await s.waitNext(1);
            }
            await settle();
            const up = workers.all.filter((worker) => worker.up);
            if (state.count !== up.length) {
              problems.push(`${state.count} slots for ${up.length} connected members`);
            }
            for (const worker of up) {
              if (state.slotOfWorker(worker) === undefined)
                problems.push(`${worker.id} has no slot`);
            }
            autoscaler.stop();
            totals.runs++;
            if (problems.length > 0) throw new Error(`${problems.join('; ')}\n${s.report()}`);
          },
        ),
        { numRuns: RUNS },
      );
      console.log(JSON.stringify({ fastCheck: 'autoscalerRace', ...totals }));
      expect(totals.adds).toBeGreaterThan(0);
      expect(totals.shrinks).toBeGreaterThan(0);
      expect(totals.maxSize).toBeGreaterThan(OPTIONS.max); // moveBounds moved max
    },
    timeoutFor(60_000),
  );
});
