import type { LoggerService } from '@nestjs/common';
import type { GrpcPoolHealthProbeOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { ChannelWorker } from '../pool/channel-worker.js';
import { publish } from '../telemetry/pool-events.js';
import { loadHealthClientFactory, type HealthClientFactory } from './health-client.js';
import type { MemberOuts } from './member-outs.js';
import { MemberProber, type ProbeListener, type ProbeSettings } from './member-prober.js';

/**
 * Health checking of one pool: a prober per member, and what their answers mean.
 * - `NOT_SERVING` / `SERVICE_UNKNOWN` take the member out until `SERVING`; the server's word
 *   is trusted, even when it takes out every member.
 * - Failed or slow probes take it out (`probe-failures`) only under the guard, and give it a
 *   fresh channel, at most one member per `intervalMs`.
 * - A server without a health service (`Check` UNIMPLEMENTED) switches checking off for the
 *   pool with one warning.
 */
export class PoolHealthChecker implements ProbeListener {
  private readonly probers = new Map<ChannelWorker, MemberProber>();
  private readonly settings: ProbeSettings;
  private readonly lastStatus = new WeakMap<ChannelWorker, string>();
  private factory: HealthClientFactory | undefined = undefined;
  private off = false;
  private lastRenewal = -Infinity;

  constructor(
    private readonly pool: string,
    options: Readonly<Required<GrpcPoolHealthProbeOptions>>,
    private readonly outs: MemberOuts,
    private readonly logger: LoggerService,
  ) {
    this.settings = { ...options, watch: true };
  }

  /** Loads the health client (grpc-health-check) before the first member connects. */
  async load(): Promise<void> {
    this.factory = await loadHealthClientFactory(this.pool);
  }

  /** Starts probing members that joined and stops probing members that left. */
  sync(workers: readonly ChannelWorker[]): void {
    if (this.off || this.factory === undefined) return;
    for (const worker of workers) {
      if (!this.probers.has(worker)) {
        const prober = new MemberProber(worker, this.factory(worker.member), this.settings, this);
        this.probers.set(worker, prober);
        prober.start();
      }
    }
    if (this.probers.size > workers.length) {
      const present = new Set(workers);
      for (const [worker, prober] of this.probers) {
        if (!present.has(worker)) {
          prober.stop();
          this.probers.delete(worker);
        }
      }
    }
  }

  stop(): void {
    for (const prober of this.probers.values()) prober.stop();
    this.probers.clear();
  }

  served(worker: ChannelWorker, status: string, via: 'watch' | 'check'): void {
    if (this.off || !this.probers.has(worker)) return;
    if (this.lastStatus.get(worker) !== status) {
      this.lastStatus.set(worker, status);
      publish('memberHealth', () => ({
        pool: this.pool,
        memberId: worker.id,
        target: worker.target,
        status,
        via,
      }));
    }
    // Any answer is a passed probe.
    this.outs.bringBack(worker, 'probe-failures');
    if (status === 'SERVING') {
      this.outs.bringBack(worker, 'NOT_SERVING');
      this.outs.bringBack(worker, 'SERVICE_UNKNOWN');
    } else if (status === 'NOT_SERVING') {
      this.outs.bringBack(worker, 'SERVICE_UNKNOWN');
      this.outs.takeOut(worker, 'NOT_SERVING');
    } else if (status === 'SERVICE_UNKNOWN') {
      this.outs.bringBack(worker, 'NOT_SERVING');
      this.outs.takeOut(worker, 'SERVICE_UNKNOWN');
    }
    // UNKNOWN (the server has not decided yet) changes nothing.
  }

  unhealthy(worker: ChannelWorker): void {
    if (this.off) return;
    if (!this.outs.has(worker, 'probe-failures')) {
      if (!this.outs.mayTakeOut(worker)) {
        this.outs.heldBack(worker, 'probe-failures');
        return;
      }
      this.outs.takeOut(worker, 'probe-failures');
    }
    // A fresh connection may land on a healthy path; one member per interval, so that a
    // fault on the client's side does not turn into a reconnect storm.
    const now = Date.now();
    if (now - this.lastRenewal >= this.settings.intervalMs) {
      this.lastRenewal = now;
      this.probers.get(worker)?.resetWindow();
      worker.renewChannel();
    }
  }

  unimplemented(details: string): void {
    if (this.off) return;
    this.off = true;
    this.stop();
    this.outs.releaseAll(['NOT_SERVING', 'SERVICE_UNKNOWN', 'probe-failures']);
    this.logger.warn(
      `health checking is off for this pool: the server answered ${details}. Add the ` +
        'grpc.health.v1 service to the server (e.g. grpc-health-check) or remove healthCheck',
    );
    publish('healthCheckOff', () => ({ pool: this.pool, reason: details }));
  }
}
