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
 */
export function planMoves(members: readonly Member[], live: readonly string[]): SpreadMove[] {
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
  return moves;
}

/** Members holding no slot first, then those with the fewest calls in flight. */
function leaveFirst(a: Member, b: Member): number {
  return Number(isServing(a)) - Number(isServing(b)) || a.channel.inFlight - b.channel.inFlight;
}

/** A member that holds a connection the pool uses (moved make-before-break). */
function isServing(member: Member): boolean {
  return member.state === 'serving' || member.state === 'held';
}
