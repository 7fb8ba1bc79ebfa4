import { PoolStateService } from '../../lib/state/pool-state.service.js';

interface Worker {
  readonly id: number;
}

interface Member {
  readonly inFlight: number;
  readonly worker: Worker;
  /** Which registration of its worker put this member in the table. */
  readonly version: number;
}

type State = PoolStateService<Worker, Member>;

function makeWorkers(n: number): Worker[] {
  return Array.from({ length: n }, (_, id) => ({ id }));
}

function member(worker: Worker, version = 0): Member {
  return { inFlight: 0, worker, version };
}

/** Every way the table can break its invariants, checked from the outside; empty when sound. */
function invariantViolations(state: State, workers: readonly Worker[]): string[] {
  const problems: string[] = [];
  const count = state.count;
  if (state.slots.length !== count) {
    problems.push(`slots.length ${state.slots.length} !== count ${count}`);
  }
  for (let slot = 0; slot < count; slot++) {
    if (!(slot in state.slots) || state.slots[slot] === undefined) {
      problems.push(`slot ${slot} is empty`);
    }
  }
  const holders = new Array<number>(count).fill(0);
  for (const worker of workers) {
    const slot = state.slotOf(worker);
    if (slot === undefined) {
      continue;
    }
    if (!Number.isInteger(slot) || slot < 0 || slot >= count) {
      problems.push(`worker ${worker.id} holds slot ${slot} outside 0..${count - 1}`);
      continue;
    }
    holders[slot]++;
    if (state.slots[slot]?.worker !== worker) {
      problems.push(`slot ${slot} holds worker ${state.slots[slot]?.worker.id}, not ${worker.id}`);
    }
  }
  holders.forEach((n, slot) => {
    if (n !== 1) {
      problems.push(`slot ${slot} is held by ${n} workers`);
    }
  });
  return problems;
}

/** The slot table written as the worker id in each slot. */
function layout(state: State): number[] {
  return state.slots.map((m) => m.worker.id);
}

/** Lets queued mutex work and promise continuations run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Whether `promise` has settled by the time the event loop has turned once. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settle();
  return settled;
}

/** mulberry32: a small seeded PRNG so every storm replays exactly. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** The plain sequential model of the slot table the service must agree with. */
class SlotModel {
  readonly slots: Member[] = [];

  register(worker: Worker, m: Member): number {
    const known = this.slots.findIndex((x) => x.worker === worker);
    if (known !== -1) {
      this.slots[known] = m;
      return known;
    }
    this.slots.push(m);
    return this.slots.length - 1;
  }

  unregister(worker: Worker): void {
    const slot = this.slots.findIndex((x) => x.worker === worker);
    if (slot === -1) {
      return;
    }
    const last = this.slots.pop()!;
    if (slot < this.slots.length) {
      this.slots[slot] = last;
    }
  }
}

describe('PoolStateService', () => {
  let state: State;
  let workers: Worker[];

  beforeEach(() => {
    state = new PoolStateService<Worker, Member>();
    workers = makeWorkers(8);
  });

  it('starts empty', () => {
    expect(state.count).toBe(0);
    expect(state.slots).toEqual([]);
    expect(state.slotOf(workers[0])).toBeUndefined();
  });

  it('gives new workers the lowest free slot, which is always count', async () => {
    for (let i = 0; i < 5; i++) {
      expect(state.count).toBe(i);
      await expect(state.register(workers[i], member(workers[i]))).toBe(i);
      expect(state.slotOf(workers[i])).toBe(i);
    }
    expect(state.count).toBe(5);
    expect(layout(state)).toEqual([0, 1, 2, 3, 4]);
    expect(invariantViolations(state, workers)).toEqual([]);
  });

  it('keeps the slot of a worker that registers again and replaces its member', async () => {
    for (const worker of workers.slice(0, 3)) {
      await state.register(worker, member(worker));
    }
    const fresh = member(workers[1], 1);

    await expect(state.register(workers[1], fresh)).toBe(1);

    expect(state.count).toBe(3);
    expect(state.slots[1]).toBe(fresh);
    expect(layout(state)).toEqual([0, 1, 2]);
    expect(invariantViolations(state, workers)).toEqual([]);
  });

  it('moves the last member into the gap on unregister and updates its slot', async () => {
    for (const worker of workers.slice(0, 5)) {
      await state.register(worker, member(worker));
    }
    const lastMember = state.slots[4];

    await state.unregister(workers[1]);

    expect(state.count).toBe(4);
    expect(layout(state)).toEqual([0, 4, 2, 3]);
    expect(state.slots[1]).toBe(lastMember);
    expect(state.slotOf(workers[4])).toBe(1);
    expect(state.slotOf(workers[1])).toBeUndefined();
    // Members that were not last stay where they were.
    expect(state.slotOf(workers[0])).toBe(0);
    expect(state.slotOf(workers[2])).toBe(2);
    expect(state.slotOf(workers[3])).toBe(3);
    expect(invariantViolations(state, workers)).toEqual([]);
  });

  it('just drops the last slot when the last member leaves', async () => {
    for (const worker of workers.slice(0, 3)) {
      await state.register(worker, member(worker));
    }

    await state.unregister(workers[2]);

    expect(layout(state)).toEqual([0, 1]);
    expect(state.slotOf(workers[2])).toBeUndefined();
    expect(invariantViolations(state, workers)).toEqual([]);
  });

  it('empties completely and refills from slot 0', async () => {
    for (const worker of workers.slice(0, 3)) {
      await state.register(worker, member(worker));
    }
    for (const worker of workers.slice(0, 3)) {
      await state.unregister(worker);
    }
    expect(state.count).toBe(0);
    expect(state.slots).toEqual([]);

    await expect(state.register(workers[2], member(workers[2]))).toBe(0);
    expect(layout(state)).toEqual([2]);
  });

  it('gives a worker that left and came back the lowest free slot, not its old one', async () => {
    for (const worker of workers.slice(0, 4)) {
      await state.register(worker, member(worker));
    }
    await state.unregister(workers[0]);

    await expect(state.register(workers[0], member(workers[0], 1))).toBe(3);
    expect(layout(state)).toEqual([3, 1, 2, 0]);
    expect(invariantViolations(state, workers)).toEqual([]);
  });

  it('ignores unregister of an unknown worker', async () => {
    for (const worker of workers.slice(0, 3)) {
      await state.register(worker, member(worker));
    }
    const before = [...state.slots];

    await expect(state.unregister(workers[7])).toBeUndefined();
    await expect(state.unregister({ id: 99 })).toBeUndefined();

    expect(state.count).toBe(3);
    expect(state.slots).toEqual(before);
    expect(invariantViolations(state, workers)).toEqual([]);
  });

  it('ignores a second unregister of the same worker', async () => {
    for (const worker of workers.slice(0, 3)) {
      await state.register(worker, member(worker));
    }
    await state.unregister(workers[0]);
    const before = layout(state);

    await state.unregister(workers[0]);

    expect(layout(state)).toEqual(before);
    expect(state.count).toBe(2);
    expect(invariantViolations(state, workers)).toEqual([]);
  });

  it('ignores unregister on an empty table', async () => {
    await state.unregister(workers[0]);
    expect(state.count).toBe(0);
    expect(state.slots).toEqual([]);
  });

  describe('whenReady', () => {
    it('waits for the first register, then resolves every waiter', async () => {
      const first = state.whenReady();
      const second = state.whenReady();
      expect(await hasSettled(first)).toBe(false);

      await state.register(workers[0], member(workers[0]));

      await expect(first).resolves.toBeUndefined();
      await expect(second).resolves.toBeUndefined();
    });

    it('resolves at once while a member is ready', async () => {
      await state.register(workers[0], member(workers[0]));
      expect(await hasSettled(state.whenReady())).toBe(true);
    });

    it('does not resolve on an unregister', async () => {
      const ready = state.whenReady();
      await state.unregister(workers[0]);
      expect(await hasSettled(ready)).toBe(false);
      await state.register(workers[0], member(workers[0]));
      expect(await hasSettled(ready)).toBe(true);
    });

    it('waits again once the table has emptied', async () => {
      await state.register(workers[0], member(workers[0]));
      await state.unregister(workers[0]);

      const ready = state.whenReady();
      expect(await hasSettled(ready)).toBe(false);

      await state.register(workers[1], member(workers[1]));
      expect(await hasSettled(ready)).toBe(true);
    });
  });

  describe('concurrent register/unregister storms', () => {
    type Op = { kind: 'register' | 'unregister'; worker: Worker };

    /** A shuffled mix of registers and unregisters over `workers`, `perWorker` of each kind. */
    function stormOps(pool: readonly Worker[], perWorker: number, random: () => number): Op[] {
      const ops: Op[] = [];
      for (const worker of pool) {
        for (let i = 0; i < perWorker; i++) {
          ops.push({ kind: 'register', worker }, { kind: 'unregister', worker });
        }
      }
      return shuffle(ops, random);
    }

    it.each([1, 2, 3, 42, 1337])(
      'seed %i: invariants hold throughout and the end state equals the FIFO model',
      async (seed) => {
        const random = seededRandom(seed);
        const pool = makeWorkers(50);
        const model = new SlotModel();
        const versions = new Map<Worker, number>();
        const violations: string[] = [];
        const slotMismatches: string[] = [];

        for (let round = 0; round < 6; round++) {
          const ops = stormOps(pool, 1 + (round % 3), random);
          const pending: Promise<void>[] = [];
          for (let i = 0; i < ops.length; i++) {
            const { kind, worker } = ops[i];
            if (kind === 'register') {
              const version = (versions.get(worker) ?? 0) + 1;
              versions.set(worker, version);
              const m = member(worker, version);
              // Mutations are synchronous: the model applies each op at the moment it is called.
              const expectedSlot = model.register(worker, m);
              const slot = state.register(worker, m);
              if (slot !== expectedSlot) {
                slotMismatches.push(`register ${worker.id}: slot ${slot}, model ${expectedSlot}`);
              }
              violations.push(...invariantViolations(state, pool));
            } else {
              model.unregister(worker);
              state.unregister(worker);
              violations.push(...invariantViolations(state, pool));
            }
            // Now and then let the queue drain a little while more calls keep coming.
            if (random() < 0.05) {
              const ticks = Math.floor(random() * 20);
              for (let t = 0; t < ticks; t++) {
                await Promise.resolve();
              }
            }
          }
          await Promise.all(pending);

          expect(violations).toEqual([]);
          expect(slotMismatches).toEqual([]);
          expect(state.slots).toEqual(model.slots);
          for (const worker of pool) {
            const slot = model.slots.findIndex((m) => m.worker === worker);
            expect(state.slotOf(worker)).toBe(slot === -1 ? undefined : slot);
          }
        }
        // The storm must have exercised the table, not left it trivially empty every round.
        expect(versions.size).toBe(50);
      },
    );

    it('ends with exactly the workers whose last op was a register', async () => {
      const random = seededRandom(7);
      const pool = makeWorkers(50);
      const ops = stormOps(pool, 4, random);
      const lastKind = new Map<Worker, Op['kind']>();
      const pending = ops.map(({ kind, worker }) => {
        lastKind.set(worker, kind);
        return kind === 'register'
          ? state.register(worker, member(worker))
          : state.unregister(worker);
      });
      await Promise.all(pending);

      const expected = pool.filter((w) => lastKind.get(w) === 'register').map((w) => w.id);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(50);
      expect(layout(state).sort((a, b) => a - b)).toEqual(expected);
      expect(state.count).toBe(expected.length);
      expect(invariantViolations(state, pool)).toEqual([]);
    });

    it('resolves whenReady waiters during a storm and keeps the table sound after', async () => {
      const pool = makeWorkers(50);
      const ready = state.whenReady();
      const random = seededRandom(99);
      const ops = stormOps(pool, 2, random);
      const pending = ops.map(({ kind, worker }) =>
        kind === 'register' ? state.register(worker, member(worker)) : state.unregister(worker),
      );
      await Promise.all([...pending, ready]);
      expect(invariantViolations(state, pool)).toEqual([]);
    });
  });
});
