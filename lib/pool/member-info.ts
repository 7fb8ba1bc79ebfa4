import { connectivityState as State, status as Status } from '@grpc/grpc-js';
import { describeOut } from '../health-check/member-outs.js';
import type { MemberState, PoolMemberInfo } from '../interfaces/pool-status.interface.js';
import { addressLabel } from '../options/resolve-addresses.js';
import type { ChannelWorker } from './channel-worker.js';

/** What `PoolMembers` knows of a worker beyond the worker itself. */
export interface MemberPlace {
  readonly slot: number | undefined;
  readonly draining: boolean;
  /** When `maxConnectionAgeMs` renews it (ms since epoch), if it does. */
  readonly renewAt: number | undefined;
}

/**
 * One member as `status()` and `members()` show it: its place, connection and counts, and
 * each optional feature's view (spreading, renewal, reset budget, latency, health) only
 * where that feature is on. Holds no credentials.
 */
export function describeMember(
  worker: ChannelWorker,
  { slot, draining, renewAt }: MemberPlace,
): PoolMemberInfo {
  const { member } = worker;
  return {
    id: worker.id,
    slot: slot ?? null,
    state: State[worker.state] as MemberState,
    inFlight: member.inFlight,
    callsStarted: member.started,
    ...(member.resetBudget !== undefined && {
      resets: member.resetBudget.resets,
      resetBudgetLeft: Math.floor(member.resetBudget.remaining()),
    }),
    callsFailed: member.started - member.inFlight - member.endedByStatus[0],
    callsByStatus: byStatusName(member.endedByStatus),
    disconnects: worker.disconnects,
    lastStateChange: new Date(worker.lastStateChange).toISOString(),
    target: worker.target,
    ...(worker.address !== undefined && { address: addressLabel(worker.address) }),
    ...(draining && { draining: true }),
    ...(member.latency !== undefined && {
      latencyMs: Math.round(member.latency.cost * 1000) / 1000,
    }),
    ...(worker.config.renewedFrom !== undefined && { renewedFrom: worker.config.renewedFrom }),
    channels: worker.generation,
    ...(worker.readySince !== undefined && {
      readySince: new Date(worker.readySince).toISOString(),
    }),
    ...(worker.lastError !== undefined && { lastError: worker.lastError }),
    ...(worker.out !== undefined && { out: describeOut(worker.out) }),
    ...(renewAt !== undefined && { renewAt: new Date(renewAt).toISOString() }),
  };
}

function byStatusName(counts: readonly number[]): Record<string, number> {
  const named: Record<string, number> = {};
  counts.forEach((count, code) => {
    if (count > 0) {
      named[Status[code]] = count;
    }
  });
  return named;
}
