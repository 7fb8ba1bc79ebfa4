import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full garbage collection, and where it came from; `undefined` when Node gives none. */
export interface GcSource {
  readonly gc: (() => void) | undefined;
  readonly source: 'global.gc (--expose-gc)' | 'v8.setFlagsFromString' | 'unavailable';
}

/**
 * Finds a way to force a full GC. `node --expose-gc` gives `gc` to every new context (jest's
 * sandbox copies no such global, so it is fetched from a fresh one); without the flag,
 * `v8.setFlagsFromString('--expose-gc')` does the same for contexts made afterwards.
 */
export function findGc(): GcSource {
  const own = (globalThis as { gc?: () => void }).gc;
  if (typeof own === 'function') {
    return { gc: own, source: 'global.gc (--expose-gc)' };
  }
  const fromContext = () =>
    runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
  if (process.execArgv.some((arg) => /^--expose[-_]gc$/.test(arg))) {
    const gc = fromContext();
    if (gc) return { gc, source: 'global.gc (--expose-gc)' };
  }
  try {
    setFlagsFromString('--expose-gc');
    const gc = fromContext();
    if (gc) return { gc, source: 'v8.setFlagsFromString' };
  } catch {
    // Fall through: no way to force a GC here.
  }
  return { gc: undefined, source: 'unavailable' };
}

/** Heap used after repeated full GCs (weak callbacks and finalizers get a turn in between). */
export async function heapAfterGc(gc: () => void): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  gc();
  return process.memoryUsage().heapUsed;
}

/** `process.getActiveResourcesInfo()` counted by type (ref'ed handles, requests, timers). */
export function activeResources(): Record<string, number> {
  return countBy(process.getActiveResourcesInfo());
}

/**
 * Every async resource (sockets, timers ref'ed or not, HTTP/2 sessions, ...) created while
 * the tracker is on and not yet destroyed, counted by type. Promises are left out: they are
 * the GC's business and the heap figure covers them.
 */
export class ResourceTracker {
  private readonly live = new Map<number, string>();
  /** Marks the tracker's own waiting (settle loops, GC turns): what it makes is not counted. */
  private readonly aside = new AsyncLocalStorage<true>();
  /** With SOAK_TRACE_TYPE=Timeout (say): where each live one was made, to find a leak's source. */
  private readonly stacks = process.env.SOAK_TRACE_TYPE ? new Map<number, string>() : undefined;
  private readonly hook = createHook({
    init: (asyncId, type) => {
      if (type !== 'PROMISE' && this.aside.getStore() !== true) {
        this.live.set(asyncId, type);
        if (type === process.env.SOAK_TRACE_TYPE) {
          this.stacks?.set(asyncId, new Error(type).stack ?? type);
        }
      }
    },
    destroy: (asyncId) => {
      this.live.delete(asyncId);
      this.stacks?.delete(asyncId);
    },
  });

  start(): this {
    this.hook.enable();
    return this;
  }

  stop(): void {
    this.hook.disable();
  }

  /** Runs `measure` without counting the timers and immediates it makes. */
  measuring<T>(measure: () => Promise<T>): Promise<T> {
    return this.aside.run(true, measure);
  }

  /** Where the live resources of type SOAK_TRACE_TYPE were made. */
  traces(): string[] {
    return [...(this.stacks?.values() ?? [])];
  }

  /** Resources made since `start()` (outside `measuring`) that are still alive, by type. */
  alive(): Record<string, number> {
    return countBy(this.live.values());
  }
}

/** Types whose count in `after` exceeds `before`, with both counts. */
export function grownTypes(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, { before: number; after: number }> {
  const grown: Record<string, { before: number; after: number }> = {};
  for (const [type, count] of Object.entries(after)) {
    if (count > (before[type] ?? 0)) grown[type] = { before: before[type] ?? 0, after: count };
  }
  return grown;
}

function countBy(types: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of types) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}
