import type { LoggerService } from '@nestjs/common';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import { Member, type MemberOut, type MemberOwner } from '../member/member.js';
import { MemberReporter } from '../member/member-reporter.js';
import { ResetBudget } from '../member/reset-budget.js';
import type { CallRouting, MemberPlacement, MemberPolicy } from './member-policy.js';

/** Calls in flight on one member at which the autoscaler considers growing. */
export function busyMark(autoscale: { scaleUpAt: number; streamsPerMember: number }): number {
  return Math.max(1, Math.ceil(autoscale.scaleUpAt * autoscale.streamsPerMember));
}

/** How a member is made beyond its target: a replacement's dial, standby, lineage and holds. */
export interface MemberExtra {
  readonly address?: string;
  readonly standby?: boolean;
  readonly renewedFrom?: number;
  readonly outs?: Iterable<MemberOut>;
}

/**
 * Makes a pool's members, each with its id, its dial (placed by address spreading when on),
 * its channel args, and its call signals (failure streak, busy mark, reset budget) wired once,
 * at construction, to the policies: no signal is ever re-wired later.
 */
export class MemberFactory {
  private nextId = 0;

  constructor(
    private readonly options: ResolvedPoolOptions,
    private readonly owner: MemberOwner,
    private readonly placement: MemberPlacement | undefined,
    private readonly policies: readonly MemberPolicy[],
    private readonly routing: CallRouting,
    private readonly logger: LoggerService,
  ) {}

  make(target: string, extra: MemberExtra): Member {
    const { options } = this;
    const id = this.nextId++;
    const placed = extra.address ?? this.placement?.place(target);
    const member = new Member(
      {
        pool: options.name,
        id,
        target,
        address: placed ?? undefined,
        addressArgs: this.placement?.addressArgs(target),
        credentials: options.credentials,
        channelOptions: options.channelOptions,
        connectTimeoutMs: options.connectTimeoutMs,
        defaultDeadlineMs: options.defaultDeadlineMs,
        latencyTauMs: options.peakEwma?.tauMs,
        reporter: new MemberReporter(options.name, id, target, this.logger),
        standby: extra.standby === true,
        renewedFrom: extra.renewedFrom,
        outs: extra.outs,
      },
      this.owner,
    );
    member.channel.repick = (failed) => this.routing.repick(failed);
    this.wireSignals(member);
    return member;
  }

  /** The target of the pool's `url` list that the fewest of `kept` are on (the first on ties). */
  leastUsedTarget(kept: readonly Member[]): string {
    const { urls } = this.options;
    let best = urls[0];
    let bestCount = Infinity;
    for (const url of urls) {
      const count = kept.filter((member) => member.target === url).length;
      if (count < bestCount) {
        best = url;
        bestCount = count;
      }
    }
    return best;
  }

  /** Call signals of the member's channel go to the policies; limits come from the options. */
  private wireSignals(member: Member): void {
    const { channel } = member;
    const { outlierEjection, autoscale, resetBudget } = this.options;
    const tell = (signal: 'failureStreak' | 'busy' | 'resetBudgetLow') => () => {
      if (member.leaving) return;
      for (const policy of this.policies) policy[signal]?.(member);
    };
    if (outlierEjection !== undefined) {
      channel.streakLimit = outlierEjection.consecutiveFailures;
      channel.onFailureStreak = tell('failureStreak');
    }
    if (autoscale !== undefined) {
      channel.watchBusy(busyMark(autoscale), tell('busy'));
    }
    if (resetBudget !== undefined) {
      channel.resetBudget = new ResetBudget(
        resetBudget.burst,
        resetBudget.perSecond,
        resetBudget.margin,
        tell('resetBudgetLow'),
      );
    }
  }
}
