import fc from 'fast-check';
import { PoolArgumentError, PoolClosedError } from '../../lib/errors/pool.errors.js';
import { MAX_POOL_SIZE } from '../../lib/grpc-pool.constants.js';
import { PoolScaler } from '../../lib/pool/pool-scaler.js';
import type { PoolMembers } from '../../lib/pool/pool-members.js';
import { PoolStateService } from '../../lib/state/pool-state.service.js';
import { settle } from './fake-channel.js';
import { MAX_COMMANDS, MODEL_RUNS, reportRuns, timeoutFor } from './model-runs.js';
import { SlotModel, slotTableProblems } from './slot-model.js';

/**
 * Level (b): races. `fc.scheduler` decides when each operation is issued and when each
 * worker's connection comes up, so register, unregister, re-register and the real
 * `PoolScaler`'s scaleUp / scaleDown / resize / shutdown interleave in orders a plain test
 * would never hit. Checked: the slot invariants after every step; at the end, the table
 * equals the sequential model replaying every register/unregister in the order they were
 * called (the mutex is FIFO), exactly the connected, kept workers hold slots, and every
 * scale call got what the FIFO model of the scaler predicts.
 */

interface Member {
  inFlight: number;
}

class RaceWorker {
  /** Connected (READY) as the worker last saw it. */
  up = false;
  /** Taken out of the pool (drain began): it must never register again. */
  stopped = false;
  member: Member = { inFlight: 0 };
  constructor(readonly id: number) {}
}

type TableCall =
  | { op: 'register'; worker: RaceWorker; member: Member }
  | {
      op: 'unregister';
      worker: RaceWorker;
    };

/** The real slot table, logging each register/unregister at the moment it is called. */
class LoggedState extends PoolStateService<RaceWorker, Member> {
  readonly log: TableCall[] = [];

  override register(worker: RaceWorker, member: Member): Promise<number> {
    this.log.push({ op: 'register', worker, member });
    return super.register(worker, member);
  }

  override unregister(worker: RaceWorker): Promise<void> {
    this.log.push({ op: 'unregister', worker });
    return super.unregister(worker);
  }
}

/**
 * Stands in for `PoolMembers` under the real `PoolScaler`: workers whose connectivity the
 * scheduler drives, following `ChannelWorker`'s rules (register on READY, unregister on
 * leaving it, nothing once stopped; drain = stop, unregister, wait for calls, shut down).
 */
class RaceWorkers {
  readonly all: RaceWorker[] = [];
  readonly ever: RaceWorker[] = [];
  readonly problems: string[] = [];
  private busy = false;

  constructor(
    private readonly state: LoggedState,
    private readonly s: fc.Scheduler,
  ) {}

  get size(): number {
    return this.all.length;
  }

  add(n: number): void {
    this.enter('add');
    for (let i = 0; i < n; i++) {
      const worker = new RaceWorker(this.ever.length);
      this.all.push(worker);
      this.ever.push(worker);
      void this.s
        .schedule(Promise.resolve(), `worker ${worker.id} connects`)
        .then(() => this.connectivity(worker, true));
    }
    this.busy = false;
  }

  /** As `ChannelWorker.enter`: READY registers, leaving READY unregisters, stopped ignores. */
  connectivity(worker: RaceWorker, up: boolean): void {
    if (worker.stopped || worker.up === up) {
      return;
    }
    worker.up = up;
    void (up ? this.state.register(worker, worker.member) : this.state.unregister(worker));
  }

  /** A READY worker's channel swapped: it registers again, maybe with a new member. */
  replace(worker: RaceWorker, fresh: boolean): void {
    if (worker.stopped || !worker.up) {
      return;
    }
    if (fresh) {
      worker.member = { inFlight: 0 };
    }
    void this.state.register(worker, worker.member);
  }

  async remove(n: number): Promise<number> {
    this.enter('remove');
    const victims = [...this.all]
      .sort(
        (a, b) =>
          Number(a.up) - Number(b.up) || a.member.inFlight - b.member.inFlight || b.id - a.id,
      )
      .slice(0, n);
    for (const victim of victims) {
      this.all.splice(this.all.indexOf(victim), 1);
    }
    await this.drain(victims);
    this.busy = false;
    return 0;
  }

  /** Shutdown does not wait for a running scale operation: it may overlap a scale-down's drain. */
  async removeAll(): Promise<number> {
    await this.drain(this.all.splice(0));
    return 0;
  }

  private enter(what: string): void {
    if (this.busy) {
      this.problems.push(`${what} ran while another scale operation was running`);
    }
    this.busy = true;
  }

  private async drain(workers: readonly RaceWorker[]): Promise<void> {
    await Promise.all(
      workers.map(async (worker) => {
        worker.stopped = true;
        await this.state.unregister(worker);
        if (this.state.slotOfWorker(worker) !== undefined) {
          this.problems.push(`worker ${worker.id} holds a slot after its drain unregistered it`);
        }
        // Waiting for its calls in flight: as long as the scheduler says.
        await this.s.schedule(Promise.resolve(), `worker ${worker.id} idle`);
        if (this.state.slotOfWorker(worker) !== undefined) {
          this.problems.push(`worker ${worker.id} got a slot back while draining`);
        }
        if (worker.up) {
          worker.up = false;
          void this.state.unregister(worker);
        }
      }),
    );
  }
}

type RaceOp =
  | { kind: 'scaleUp'; n: number }
  | { kind: 'scaleDown'; n: number }
  | { kind: 'resize'; size: number }
  | { kind: 'up' | 'down'; pick: number }
  | { kind: 'replace'; pick: number; fresh: boolean }
  | { kind: 'unregister unknown' }
  | { kind: 'close' };

const raceOp: fc.Arbitrary<RaceOp> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('scaleUp' as const),
      n: fc.integer({ min: 0, max: 3 }),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('scaleDown' as const),
      n: fc.integer({ min: 0, max: 4 }),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('resize' as const),
      size: fc.integer({ min: 0, max: 6 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constantFrom('up' as const, 'down' as const), pick: fc.nat() }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('replace' as const),
      pick: fc.nat(),
      fresh: fc.boolean(),
    }),
    weight: 2,
  },
  { arbitrary: fc.constant({ kind: 'unregister unknown' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'close' as const }), weight: 1 },
);

interface ScaleCall {
  readonly what: 'start' | 'scaleUp' | 'scaleDown' | 'resize';
  readonly arg: number;
  readonly afterClose: boolean;
  outcome?: { size: number } | { error: unknown };
}

/** What the scaler must answer to each call, served one by one in the order called. */
function scaleProblems(
  calls: readonly ScaleCall[],
  closeIssued: boolean,
): {
  problems: string[];
  size: number;
} {
  const problems: string[] = [];
  let size = 0;
  let closedSeen = false;
  for (const call of calls) {
    const label = `${call.what}(${call.arg})`;
    const outcome = call.outcome;
    if (outcome === undefined) {
      problems.push(`${label} never settled`);
      continue;
    }
    const error = 'error' in outcome ? outcome.error : undefined;
    if (error instanceof PoolClosedError) {
      if (!closeIssued) problems.push(`${label} got PoolClosedError but the pool never closed`);
      closedSeen = true;
      continue;
    }
    if (call.afterClose || closedSeen) {
      problems.push(`${label} ran after the pool closed: ${JSON.stringify(outcome)}`);
      continue;
    }
    const [min, max, next] =
      call.what === 'start'
        ? [1, MAX_POOL_SIZE, size + call.arg]
        : call.what === 'scaleUp'
          ? [1, MAX_POOL_SIZE - size, size + call.arg]
          : call.what === 'scaleDown'
            ? [1, size - 1, size - call.arg]
            : [1, MAX_POOL_SIZE, call.arg];
    const valid = call.arg >= min && call.arg <= max;
    if (valid) {
      size = next;
      if (error !== undefined || (outcome as { size: number }).size !== size) {
        problems.push(
          `${label}: expected size ${size}, got ${String(error ?? JSON.stringify(outcome))}`,
        );
      }
    } else if (!(error instanceof PoolArgumentError) || !error.message.includes(`${call.what}(`)) {
      problems.push(
        `${label}: expected PoolArgumentError, got ${String(error ?? JSON.stringify(outcome))}`,
      );
    }
  }
  return { problems, size };
}

/** Runs scheduled tasks one at a time, checking after each, until nothing is left to run. */
async function runToEnd(s: fc.Scheduler, afterEachStep: () => void): Promise<number> {
  let steps = 0;
  for (;;) {
    await settle();
    if (s.count() === 0) {
      return steps;
    }
    await s.waitNext(1);
    steps++;
    afterEachStep();
  }
}

describe('slot table races (fast-check scheduler, PoolStateService + real PoolScaler)', () => {
  it(
    `ends where the sequential FIFO model says, with sound invariants at every step (${MODEL_RUNS.slotTableRace} runs)`,
    async () => {
      const totals = { runs: 0, steps: 0, tableCalls: 0, scaleCalls: 0, closed: 0, maxCount: 0 };
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.integer({ min: 1, max: 4 }),
          // Batches: the ops of one batch are issued together, in one synchronous burst (a
          // connection flapping, a scale call racing a READY), the batches when the scheduler says.
          fc.array(fc.array(raceOp, { minLength: 1, maxLength: 3 }), {
            minLength: 1,
            maxLength: MAX_COMMANDS.slotTableRace,
            size: 'max',
          }),
          async (s, initial, batches) => {
            const state = new LoggedState();
            const workers = new RaceWorkers(state, s);
            const stranger = new RaceWorker(-1);
            let closed = false;
            let closing: Promise<number> | undefined;
            const scaler = new PoolScaler(
              'race',
              0,
              workers as unknown as PoolMembers,
              () => closed,
            );
            const scaleCalls: ScaleCall[] = [];
            const scale = (what: ScaleCall['what'], arg: number, run: () => Promise<number>) => {
              const call: ScaleCall = { what, arg, afterClose: closed };
              scaleCalls.push(call);
              run().then(
                (size) => (call.outcome = { size }),
                (error: unknown) => (call.outcome = { error }),
              );
            };
            const pickWorker = (pick: number) =>
              workers.ever.length === 0 ? undefined : workers.ever[pick % workers.ever.length];

            const issue = (op: RaceOp): void => {
              switch (op.kind) {
                case 'scaleUp':
                  return scale('scaleUp', op.n, () => scaler.scaleUp(op.n));
                case 'scaleDown':
                  return scale('scaleDown', op.n, () => scaler.scaleDown(op.n));
                case 'resize':
                  return scale('resize', op.size, () => scaler.resize(op.size));
                case 'up':
                case 'down': {
                  const worker = pickWorker(op.pick);
                  if (worker) workers.connectivity(worker, op.kind === 'up');
                  return;
                }
                case 'replace': {
                  const worker = pickWorker(op.pick);
                  if (worker) workers.replace(worker, op.fresh);
                  return;
                }
                case 'unregister unknown':
                  void state.unregister(stranger);
                  return;
                case 'close':
                  if (!closed) {
                    closed = true;
                    closing = scaler.stop();
                  }
                  return;
              }
            };

            scale('start', initial, () => scaler.start(initial));
            for (const batch of batches) {
              void s
                .schedule(Promise.resolve(), JSON.stringify(batch))
                .then(() => batch.forEach(issue));
            }
            const stepProblems: string[] = [];
            let maxCount = 0;
            const steps = await runToEnd(s, () => {
              maxCount = Math.max(maxCount, state.count);
              stepProblems.push(...slotTableProblems(state, [...workers.ever, stranger]));
            });
            await closing;
            await settle();

            // The table equals the log replayed in call order.
            const model = new SlotModel<RaceWorker, Member>();
            for (const entry of state.log) {
              if (entry.op === 'register') model.register(entry.worker, entry.member);
              else model.unregister(entry.worker);
            }
            const describe = (worker: RaceWorker) => `worker ${worker.id}`;
            const endProblems = slotTableProblems(
              state,
              [...workers.ever, stranger],
              model,
              describe,
            );
            // Exactly the kept, connected workers hold slots.
            for (const worker of workers.ever) {
              const shouldHold = worker.up && !worker.stopped;
              if ((state.slotOfWorker(worker) !== undefined) !== shouldHold) {
                endProblems.push(
                  `${describe(worker)} (up ${worker.up}, stopped ${worker.stopped}) slot ${state.slotOfWorker(worker)}`,
                );
              }
            }
            const scaled = scaleProblems(scaleCalls, closed);
            const expectedSize = closed ? 0 : scaled.size;
            if (workers.size !== expectedSize) {
              endProblems.push(`pool size ${workers.size}, model ${expectedSize}`);
            }
            if (closed && state.count !== 0) {
              endProblems.push(`closed pool still has ${state.count} slots`);
            }
            const problems = [
              ...stepProblems,
              ...workers.problems,
              ...endProblems,
              ...scaled.problems,
            ];
            if (problems.length > 0) {
              throw new Error(
                `${problems.join('\n')}\nschedule: ${s
                  .report()
                  .map((r) => r.label)
                  .join(' | ')}`,
              );
            }
            totals.runs++;
            totals.steps += steps;
            totals.tableCalls += state.log.length;
            totals.scaleCalls += scaleCalls.length;
            totals.closed += Number(closed);
            totals.maxCount = Math.max(totals.maxCount, maxCount);
          },
        ),
        { numRuns: MODEL_RUNS.slotTableRace },
      );
      reportRuns('slotTableRace', totals);
      expect(totals.runs).toBeGreaterThanOrEqual(MODEL_RUNS.slotTableRace);
    },
    timeoutFor(30_000),
  );
});
