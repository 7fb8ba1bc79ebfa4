import type { GrpcPoolOutlierEjectionOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { MemberOuts } from '../health-check/member-outs.js';
import type { ChannelWorker } from './channel-worker.js';

/** One member's ejection record. */
interface Ejections {
  /** Ejections since the member last stayed in for `maxEjectionMs`. */
  count: number;
  /** When it last came back (ms since epoch). */
  backAt: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Passive outlier ejection: a member whose calls end UNAVAILABLE, INTERNAL or UNKNOWN
 * `consecutiveFailures` times in a row goes out for `baseEjectionMs`, twice as long on
 * each next ejection, at most `maxEjectionMs`; a member that stays in for `maxEjectionMs`
 * starts again from the base. The count is the member's own (`MemberChannel.callEnded`,
 * O(1) where calls already end); the guard keeps half the members in rotation.
 */
export class MemberEjection {
  private readonly records = new Map<ChannelWorker, Ejections>();

  constructor(
    private readonly options: Readonly<Required<GrpcPoolOutlierEjectionOptions>>,
    private readonly outs: MemberOuts,
  ) {}

  /** Follows the calls of members that joined; forgets members that left. */
  sync(workers: readonly ChannelWorker[]): void {
    for (const worker of workers) {
      if (!this.records.has(worker)) {
        this.records.set(worker, { count: 0, backAt: 0, timer: undefined });
        worker.member.streakLimit = this.options.consecutiveFailures;
        worker.member.onFailureStreak = () => this.eject(worker);
      }
    }
    if (this.records.size > workers.length) {
      const present = new Set(workers);
      for (const [worker, record] of this.records) {
        if (!present.has(worker)) {
          clearTimeout(record.timer);
          worker.member.onFailureStreak = undefined;
          this.records.delete(worker);
        }
      }
    }
  }

  stop(): void {
    for (const record of this.records.values()) clearTimeout(record.timer);
  }

  private eject(worker: ChannelWorker): void {
    // A new streak must build up before the next verdict, whatever this one's outcome.
    worker.member.failureStreak = 0;
    const record = this.records.get(worker);
    if (record === undefined || this.outs.has(worker, 'ejected')) return;
    if (!this.outs.mayTakeOut(worker)) {
      this.outs.heldBack(worker, 'ejected');
      return;
    }
    const { baseEjectionMs, maxEjectionMs } = this.options;
    const now = Date.now();
    if (record.count > 0 && now - record.backAt >= maxEjectionMs) {
      record.count = 0;
    }
    const durationMs = Math.min(baseEjectionMs * 2 ** record.count, maxEjectionMs);
    record.count++;
    this.outs.takeOut(worker, 'ejected', now + durationMs);
    record.timer = setTimeout(() => {
      record.timer = undefined;
      record.backAt = Date.now();
      worker.member.failureStreak = 0;
      this.outs.bringBack(worker, 'ejected');
    }, durationMs).unref();
  }
}
