import { status as Status } from '@grpc/grpc-js';
import type { PoolMemberInfo, PoolTargetCalls } from '../interfaces/pool-status.interface.js';
import type { MemberChannel } from './member-channel.js';

/** The counts of the members of one target that closed. */
interface Departed {
  started: number;
  /** By gRPC status code, as `MemberChannel.endedByStatus`. */
  readonly ended: number[];
  resets: number;
}

/** A pool's call counts at one moment: its closed members' plus its listed members'. */
export interface PoolCallTotals {
  readonly inFlight: number;
  readonly callsStarted: number;
  readonly callsFailed: number;
  readonly callsByStatus: Readonly<Record<string, number>>;
  readonly resets: number;
  /** The same per target, in the pool's `url` order: every target, with zeros where nothing ran. */
  readonly targets: readonly PoolTargetCalls[];
}

/**
 * The calls of a pool's members that have closed, so that the pool's totals never drop when
 * a member leaves (scale-down, renewal, move, shutdown): a member's own counters go with it.
 *
 * A member's counts move here once, in the same synchronous step as it leaves the list that
 * `status()` reads (its channel closed, its drain over: no call of it is in flight, and calls
 * made on it since it retired went to the pool and are counted on the member that took them).
 * So `fold` + list removal keep every sum exact at every moment: no call counted twice, none
 * lost in between. Nothing here runs per call: the hot path counts on the member, as before.
 */
export class CallTotals {
  /** Per target; a few entries (the pool's urls), never one per member. */
  private readonly departed = new Map<string, Departed>();

  /**
   * Keeps the counts of `member` (of `target`), whose channel has closed. Call it exactly once
   * per member, in the same synchronous step as the member leaves `status()`'s list.
   */
  fold(target: string, member: MemberChannel): void {
    const departed = this.of(target);
    departed.started += member.started;
    member.endedByStatus.forEach((count, code) => (departed.ended[code] += count));
    departed.resets += member.resetBudget?.resets ?? 0;
  }

  /**
   * The pool's totals now: the closed members' plus `members` (the list `status()` shows),
   * per target for `urls` (and any other target a member had) and over all of them.
   */
  snapshot(urls: readonly string[], members: readonly PoolMemberInfo[]): PoolCallTotals {
    const byTarget = new Map<string, Tally>();
    const tallyOf = (target: string): Tally => {
      let tally = byTarget.get(target);
      if (tally === undefined) {
        tally = { inFlight: 0, started: 0, byStatus: {}, resets: 0 };
        byTarget.set(target, tally);
      }
      return tally;
    };
    urls.forEach(tallyOf);
    for (const [target, departed] of this.departed) {
      const tally = tallyOf(target);
      tally.started += departed.started;
      tally.resets += departed.resets;
      departed.ended.forEach((count, code) => add(tally.byStatus, Status[code], count));
    }
    for (const member of members) {
      const tally = tallyOf(member.target);
      tally.inFlight += member.inFlight;
      tally.started += member.callsStarted;
      tally.resets += member.resets ?? 0;
      for (const [name, count] of Object.entries(member.callsByStatus)) {
        add(tally.byStatus, name, count);
      }
    }
    const all: Tally = { inFlight: 0, started: 0, byStatus: {}, resets: 0 };
    const targets: PoolTargetCalls[] = [];
    for (const [target, tally] of byTarget) {
      all.inFlight += tally.inFlight;
      all.started += tally.started;
      all.resets += tally.resets;
      for (const [name, count] of Object.entries(tally.byStatus)) add(all.byStatus, name, count);
      targets.push({ target, ...described(tally) });
    }
    return { ...described(all), resets: all.resets, targets };
  }

  private of(target: string): Departed {
    let departed = this.departed.get(target);
    if (departed === undefined) {
      departed = { started: 0, ended: new Array<number>(17).fill(0), resets: 0 };
      this.departed.set(target, departed);
    }
    return departed;
  }
}

/** Counts being summed for one target, or for the pool. */
interface Tally {
  inFlight: number;
  started: number;
  /** By status name, only those seen (as a member's `callsByStatus`). */
  byStatus: Record<string, number>;
  resets: number;
}

function described(tally: Tally): Omit<PoolTargetCalls, 'target'> {
  return {
    inFlight: tally.inFlight,
    callsStarted: tally.started,
    // As for a member: what started and is neither in flight nor ended OK.
    callsFailed: tally.started - tally.inFlight - (tally.byStatus.OK ?? 0),
    callsByStatus: tally.byStatus,
  };
}

function add(counts: Record<string, number>, name: string, count: number): void {
  if (count > 0) {
    counts[name] = (counts[name] ?? 0) + count;
  }
}
