import type { Member } from '../member/member.js';

/** One member to point at another address. */
export interface SpreadMove {
  readonly member: Member;
  readonly to: string;
}

/**
 * The moves that spread `members` (the members of one target) evenly over `live` (its
 * addresses that have not failed, in this process's order): each address gets ⌊N/K⌋ or
 * ⌈N/K⌉ members, the larger shares going to the addresses that already hold the most, so
 * that as few members move as can. Members that hold no slot move first (they cost no
 * capacity); READY ones at most ⌈N/K⌉ per plan. With more addresses than members, each
 * member gets its own, the first ones in this process's order: a random subset per process.
 * To each `unproven` address (refused before, its backoff expired) at most one READY member
 * moves: the probe.
 */
export function planMoves(
  members: readonly Member[],
  live: readonly string[],
  unproven: ReadonlySet<string> = NONE,
): SpreadMove[] {
  if (live.length === 0 || members.length === 0) {
    return [];
  }
  const on = new Map<string, Member[]>(live.map((dial) => [dial, []]));
  const stray: Member[] = [];
  for (const member of members) {
    const list =
      member.connection.address === undefined ? undefined : on.get(member.connection.address);
    (list ?? stray).push(member);
  }
  const base = Math.floor(members.length / live.length);
  let extra = members.length % live.length;
  // Stable sort: equal counts keep this process's order.
  const byCount = [...live].sort((a, b) => on.get(b)!.length - on.get(a)!.length);
  const share = new Map<string, number>();
  for (const dial of byCount) {
    share.set(dial, base + (extra > 0 ? 1 : 0));
    if (extra > 0) extra--;
  }
  const leaving = [...stray];
  const wanted: string[] = [];
  for (const dial of live) {
    const here = on.get(dial)!;
    const target = share.get(dial)!;
    if (here.length > target) {
      leaving.push(...[...here].sort(leaveFirst).slice(0, here.length - target));
    }
    for (let i = here.length; i < target; i++) {
      wanted.push(dial);
    }
  }
  leaving.sort(leaveFirst);
  let servingBudget = Math.ceil(members.length / live.length);
  const moves: SpreadMove[] = [];
  for (const member of leaving) {
    if (wanted.length === 0) break;
    if (isServing(member)) {
      if (servingBudget === 0) break;
      servingBudget--;
    }
    moves.push({ member, to: wanted.shift()! });
  }
  // An address whose backoff just expired may still refuse: one member probes it (a READY
  // one make-before-break, so a refusal costs nothing), the rest follow once it served.
  const probing = new Set<string>();
  return moves.filter(({ member, to }) => {
    if (!unproven.has(to)) return true;
    if (isServing(member) && probing.has(to)) return false;
    probing.add(to);
    return true;
  });
}

const NONE: ReadonlySet<string> = new Set();

/** An address that refused or failed a member, and when the pool may dial it again. */
export interface Refusal {
  /** Refusals in a row since the address last served a member. */
  readonly failures: number;
  /** When (ms since epoch) its backoff expires. */
  readonly retryAt: number;
}

/**
 * The record of one more refusal of an address, on a backoff like grpc-js's reconnect
 * backoff: `initialMs`, x1.6 per refusal in a row, at most `maxMs`, ±20 % jitter.
 */
export function refusedAgain(
  previous: Refusal | undefined,
  now: number,
  backoff: { readonly initialMs: number; readonly maxMs: number },
  random: () => number = Math.random,
): Refusal {
  const failures = (previous?.failures ?? 0) + 1;
  const delay = Math.min(backoff.initialMs * 1.6 ** (failures - 1), backoff.maxMs);
  return { failures, retryAt: now + delay * (0.8 + random() * 0.4) };
}

/** Down: it refused and its backoff has not expired (a refusal now says nothing new). */
export function isDown(refused: ReadonlyMap<string, Refusal>, dial: string, now: number): boolean {
  return (refused.get(dial)?.retryAt ?? 0) > now;
}

/**
 * Where a member of a target goes: the address that is not down (other than `except`) with
 * the fewest members (`used`), ties in this process's order (`dials`); when every address is
 * down and `orEarliest` is set, the one whose backoff expires first (nothing better is left).
 */
export function chooseAddress(
  dials: readonly string[],
  refused: ReadonlyMap<string, Refusal>,
  used: (dial: string) => number,
  now: number,
  { except, orEarliest = false }: { except?: string; orEarliest?: boolean } = {},
): string | undefined {
  let best: string | undefined;
  let bestCount = Infinity;
  for (const dial of dials) {
    if (dial === except || isDown(refused, dial, now)) continue;
    const count = used(dial);
    if (count < bestCount) {
      best = dial;
      bestCount = count;
    }
  }
  return best ?? (orEarliest ? earliestRetry(dials, refused) : undefined);
}

/** The refused address among `dials` whose backoff expires first, if any is refused. */
export function earliestRetry(
  dials: readonly string[],
  refused: ReadonlyMap<string, Refusal>,
): string | undefined {
  let first: string | undefined;
  for (const dial of dials) {
    const at = refused.get(dial)?.retryAt;
    if (at !== undefined && (first === undefined || at < refused.get(first)!.retryAt)) first = dial;
  }
  return first;
}

/** Members holding no slot first, then those with the fewest calls in flight. */
function leaveFirst(a: Member, b: Member): number {
  return Number(isServing(a)) - Number(isServing(b)) || a.channel.inFlight - b.channel.inFlight;
}

/** A member that holds a connection the pool uses (moved make-before-break). */
function isServing(member: Member): boolean {
  return member.state === 'serving' || member.state === 'held';
}

/** Why the spread runs: a timed resolution, a member's failure, or a backoff or probe (no lookup). */
export type RefreshReason = 'timer' | 'failure' | 'retry';

/** Of two reasons to run again, the one that does the most (a resolution over a rebalance). */
export function strongest(a: RefreshReason | undefined, b: RefreshReason): RefreshReason {
  const rank = { retry: 0, failure: 1, timer: 2 } as const;
  return a !== undefined && rank[a] > rank[b] ? a : b;
}
