import { connectivityState as State, status as Status } from '@grpc/grpc-js';
import type {
  MemberOutInfo,
  MemberState,
  PoolMemberInfo,
} from '../interfaces/pool-status.interface.js';
import type { Member, MemberOut } from '../member/member.js';
import { addressLabel } from '../options/resolve-addresses.js';

/** What the membership knows of a member beyond the member itself. */
export interface MemberPlace {
  readonly slot: number | undefined;
  /** When `maxConnectionAgeMs` renews it (ms since epoch), if it does. */
  readonly renewAt: number | undefined;
  /** A new member making ready to take another's place (renewal, move): not in the size yet. */
  readonly replacement: boolean;
}

/**
 * One member as `status()` and `members()` show it: its place, connection and counts, and
 * each optional feature's view (spreading, renewal, reset budget, latency, health) only
 * where that feature is on. Holds no credentials.
 */
export function describeMember(
  member: Member,
  { slot, renewAt, replacement }: MemberPlace,
): PoolMemberInfo {
  const { channel, connection } = member;
  const draining = member.leaving;
  return {
    id: member.id,
    slot: slot ?? null,
    state: State[connection.state] as MemberState,
    lifecycle: member.state,
    inFlight: channel.inFlight,
    callsStarted: channel.started,
    ...(channel.resetBudget !== undefined && {
      resets: channel.resetBudget.resets,
      resetBudgetLeft: Math.floor(channel.resetBudget.remaining()),
    }),
    callsFailed: channel.started - channel.inFlight - channel.endedByStatus[0],
    callsByStatus: byStatusName(channel.endedByStatus),
    disconnects: connection.disconnects,
    lastStateChange: new Date(connection.lastStateChange).toISOString(),
    target: member.target,
    ...(connection.address !== undefined && { address: addressLabel(connection.address) }),
    ...(draining && { draining: true }),
    ...(replacement && { replacement: true }),
    ...(channel.latency !== undefined && {
      latencyMs: Math.round(channel.latency.cost * 1000) / 1000,
    }),
    ...(member.config.renewedFrom !== undefined && { renewedFrom: member.config.renewedFrom }),
    channels: connection.generation,
    ...(connection.readySince !== undefined && {
      readySince: new Date(connection.readySince).toISOString(),
    }),
    ...(connection.lastError !== undefined && { lastError: connection.lastError }),
    ...(member.out !== undefined && { out: describeOut(member.out) }),
    ...(renewAt !== undefined && !draining && { renewAt: new Date(renewAt).toISOString() }),
  };
}

/** A held member's weightiest reason, as `status()` shows it. */
export function describeOut(out: MemberOut): MemberOutInfo {
  return {
    reason: out.reason,
    since: new Date(out.since).toISOString(),
    ...(out.until !== undefined && { until: new Date(out.until).toISOString() }),
  };
}

/** Counts by status code (index) as `{ OK: 10, UNAVAILABLE: 1 }`, only those seen. */
export function byStatusName(counts: readonly number[]): Record<string, number> {
  const named: Record<string, number> = {};
  counts.forEach((count, code) => {
    if (count > 0) {
      named[Status[code]] = count;
    }
  });
  return named;
}
