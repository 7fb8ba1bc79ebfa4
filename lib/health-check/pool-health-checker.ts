import type { LoggerService } from '@nestjs/common';
import type { GrpcPoolHealthProbeOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { Member } from '../member/member.js';
import { CONNECTED, type Lifecycle } from '../member/member-lifecycle.js';
import type { MemberControl, MemberPolicy } from '../membership/member-policy.js';
import { publish } from '../telemetry/pool-events.js';
import { loadHealthClientFactory, type HealthClientFactory } from './health-client.js';
import { MemberProber, type ProbeListener, type ProbeSettings } from './member-prober.js';

/**
 * Health checking of one pool, a policy: a prober per member (replacements in the making
 * too, so that one inherits no NOT_SERVING it has not been asked about), and what their
 * answers mean, asked of the membership.
 * - `NOT_SERVING` / `SERVICE_UNKNOWN` take the member out until `SERVING`; the server's word
 *   is trusted, even when it takes out every member.
 * - Failed or slow probes take it out (`probe-failures`) only under the guard, and give it a
 *   fresh channel, at most one member per `intervalMs`.
 * - A server without a health service (`Check` UNIMPLEMENTED) switches checking off for the
 *   pool with one warning.
 */
export class PoolHealthChecker implements ProbeListener, MemberPolicy {
  private readonly probers = new Map<Member, MemberProber>();
  private readonly settings: ProbeSettings;
  private readonly lastStatus = new WeakMap<Member, string>();
  private factory: HealthClientFactory | undefined = undefined;
  private off = false;
  private lastRenewal = -Infinity;

  constructor(
    private readonly pool: string,
    options: Readonly<Required<GrpcPoolHealthProbeOptions>>,
    private readonly control: MemberControl,
    private readonly logger: LoggerService,
  ) {
    this.settings = { ...options, watch: true };
  }

  /** Loads the health client (grpc-health-check) before the first member connects. */
  async load(): Promise<void> {
    this.factory = await loadHealthClientFactory(this.pool);
  }

  joined(member: Member): void {
    if (this.off || this.factory === undefined) return;
    const prober = new MemberProber(member, this.factory(member.channel), this.settings, this);
    this.probers.set(member, prober);
    prober.start();
  }

  /**
   * A prober follows its member's connection: when the member leaves READY (a GOAWAY, a
   * drop) its Watch is cancelled, so no stream holds a going-away connection open, and it
   * probes the next connection as soon as that one is up.
   */
  transitioned(member: Member, from: Lifecycle, to: Lifecycle): void {
    const prober = this.probers.get(member);
    if (prober === undefined) return;
    if (to === 'draining' || to === 'closed') {
      prober.stop();
      this.probers.delete(member);
    } else if (CONNECTED.includes(from) && !CONNECTED.includes(to)) {
      prober.connectionLost();
    } else if (!CONNECTED.includes(from) && CONNECTED.includes(to)) {
      prober.connected();
    }
  }

  stop(): void {
    for (const prober of this.probers.values()) prober.stop();
    this.probers.clear();
  }

  served(member: Member, status: string, via: 'watch' | 'check'): void {
    if (this.off || !this.probers.has(member)) return;
    if (this.lastStatus.get(member) !== status) {
      this.lastStatus.set(member, status);
      publish('memberHealth', () => ({
        pool: this.pool,
        memberId: member.id,
        target: member.target,
        status,
        via,
      }));
    }
    // Any answer is a passed probe.
    this.control.letIn(member, 'probe-failures');
    if (status === 'SERVING') {
      this.control.letIn(member, 'NOT_SERVING');
      this.control.letIn(member, 'SERVICE_UNKNOWN');
    } else if (status === 'NOT_SERVING') {
      this.control.letIn(member, 'SERVICE_UNKNOWN');
      this.control.holdOut(member, 'NOT_SERVING');
    } else if (status === 'SERVICE_UNKNOWN') {
      this.control.letIn(member, 'NOT_SERVING');
      this.control.holdOut(member, 'SERVICE_UNKNOWN');
    }
    // UNKNOWN (the server has not decided yet) changes nothing.
  }

  unhealthy(member: Member): void {
    if (this.off) return;
    if (
      !member.isOut('probe-failures') &&
      !this.control.holdOut(member, 'probe-failures', { guarded: true })
    ) {
      return;
    }
    // A fresh connection may land on a healthy path; one member per interval, so that a
    // fault on the client's side does not turn into a reconnect storm.
    const now = Date.now();
    if (now - this.lastRenewal >= this.settings.intervalMs) {
      this.lastRenewal = now;
      this.probers.get(member)?.resetWindow();
      this.control.redial(member, 'unhealthy');
    }
  }

  unimplemented(details: string): void {
    if (this.off) return;
    this.off = true;
    this.stop();
    for (const member of this.control.members) {
      for (const reason of ['NOT_SERVING', 'SERVICE_UNKNOWN', 'probe-failures'] as const) {
        this.control.letIn(member, reason);
      }
    }
    this.logger.warn(
      `health checking is off for this pool: the server answered ${details}. Add the ` +
        'grpc.health.v1 service to the server (e.g. grpc-health-check) or remove healthCheck',
    );
    publish('healthCheckOff', () => ({ pool: this.pool, reason: details }));
  }
}
