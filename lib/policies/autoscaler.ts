import type { LoggerService } from '@nestjs/common';
import type { ResolvedAutoscaleOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { AutoscaleStatus } from '../interfaces/pool-status.interface.js';
import type { PoolMemberLoad } from '../interfaces/pool-strategy.interface.js';
import { busyMark } from '../membership/member-factory.js';
import { publish } from '../telemetry/pool-events.js';

/** What the autoscaler needs of its pool; the pool's scale lock runs `grow` and `shrink`. */
export interface AutoscaleHost {
  /** Members kept now. */
  readonly size: number;
  /** The ready members (the slot table). */
  readonly ready: readonly PoolMemberLoad[];
  /** Calls in flight over the members kept. */
  inFlight(): number;
  /**
   * Adds one member unless the pool is at `bounds.max` when the lock is its turn; resolves
   * whether it became ready (within connectTimeoutMs), or `undefined` when none was added.
   */
  grow(): Promise<boolean | undefined>;
  /** Removes the member with the fewest calls (drained) unless at `bounds.min`; resolves whether it did. */
  shrink(): Promise<boolean>;
}

/** Resizes in a row that alternate direction before the autoscaler warns of thrashing. */
const THRASH_RUN = 5;
/** Samples of calls in flight per shrink window. */
const PROBES_PER_WINDOW = 10;
/** Largest backoff of adds while new members fail to connect: cooldownMs x 2^5. */
const MAX_BACKOFF_DOUBLINGS = 5;

/**
 * Sizes a pool to its load within `[min, max]`.
 *
 * Growth is event-driven: a member's call start past the mark (`scaleUpAt x
 * streamsPerMember`) calls {@link onBusy} (one compare on the call path while below it).
 * It adds one member when the least-loaded ready member is at the mark too; one add at a
 * time, `cooldownMs` between adds, doubled per add whose member failed to connect.
 *
 * Shrinking has hysteresis: calls in flight are sampled ten times a window; when the peak of
 * `windows` windows in a row fits in one member fewer at `scaleDownAt` (below `scaleUpAt`,
 * so a shrink never lands at a size that grows again), the member with the fewest calls goes.
 */
export class Autoscaler {
  /** The bounds; manual scaling moves them only when asked (`PoolScaler`). */
  readonly bounds: { min: number; max: number };
  /** Calls in flight on one member at which growth is considered. */
  readonly mark: number;
  private adding = false;
  private shrinking = false;
  private failedAdds = 0;
  private cooldown: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probes = 0;
  private windowPeak = 0;
  private lowWindows = 0;
  private alternations = 0;
  private lastDirection: 'scale-up' | 'scale-down' | undefined;
  private last: AutoscaleStatus['lastDecision'] = null;
  private stopped = false;

  constructor(
    private readonly pool: string,
    private readonly options: ResolvedAutoscaleOptions,
    private readonly host: AutoscaleHost,
    private readonly logger: LoggerService,
  ) {
    this.bounds = { min: options.min, max: options.max };
    this.mark = busyMark(options);
  }

  /** Starts sampling for shrinks. */
  start(): void {
    const every = Math.max(10, Math.floor(this.options.sampleIntervalMs / PROBES_PER_WINDOW));
    this.probeTimer = setInterval(() => this.probe(), every).unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.probeTimer);
    clearTimeout(this.cooldown);
  }

  /** Whether an add is in flight (or cooling down after one). */
  get addInFlight(): boolean {
    return this.adding;
  }

  status(): AutoscaleStatus {
    return {
      min: this.bounds.min,
      max: this.bounds.max,
      mark: this.mark,
      addInFlight: this.adding,
      lowWindows: this.lowWindows,
      lastDecision: this.last,
    };
  }

  /** A call started on a member at or past the mark. O(1) until an add is due. */
  readonly onBusy = (): void => {
    if (this.adding || this.shrinking || this.stopped || this.host.size >= this.bounds.max) {
      return;
    }
    let least = Infinity;
    for (const member of this.host.ready) {
      if (member.inFlight < least) least = member.inFlight;
    }
    if (least >= this.mark) {
      void this.grow(least);
    }
  };

  /** One sample of calls in flight; the tenth closes the window. */
  probe(): void {
    this.windowPeak = Math.max(this.windowPeak, this.host.inFlight());
    if (++this.probes >= PROBES_PER_WINDOW) {
      this.endWindow();
    }
  }

  /** Closes a shrink window: counts it low or not, and removes a member after enough. */
  endWindow(): void {
    const peak = this.windowPeak;
    this.windowPeak = 0;
    this.probes = 0;
    const size = this.host.size;
    const fits = Math.floor((size - 1) * this.options.streamsPerMember * this.options.scaleDownAt);
    this.lowWindows = size > this.bounds.min && peak <= fits ? this.lowWindows + 1 : 0;
    if (this.lowWindows < this.options.windows || this.adding || this.shrinking || this.stopped) {
      return;
    }
    this.lowWindows = 0;
    const reason =
      `peak ${peak} calls in flight in ${this.options.windows} window(s) in a row fits ` +
      `${size - 1} member(s) at scaleDownAt (<= ${fits})`;
    void this.shrink(size, peak, fits, reason);
  }

  private async grow(least: number): Promise<void> {
    this.adding = true;
    const from = this.host.size;
    const inFlight = this.host.inFlight();
    const reason = `least-loaded ready member has ${least} calls in flight >= mark ${this.mark}`;
    try {
      const ready = await this.host.grow();
      if (ready !== undefined) {
        this.decided('scale-up', reason, from, inFlight, least);
        this.failedAdds = ready ? 0 : this.failedAdds + 1;
      }
    } catch {
      this.failedAdds++;
    }
    const delay = this.options.cooldownMs * 2 ** Math.min(this.failedAdds, MAX_BACKOFF_DOUBLINGS);
    if (delay === 0 || this.stopped) {
      this.adding = false;
      return;
    }
    this.cooldown = setTimeout(() => (this.adding = false), delay).unref();
  }

  private async shrink(from: number, peak: number, fits: number, reason: string): Promise<void> {
    this.shrinking = true;
    try {
      if (await this.host.shrink()) {
        this.decided('scale-down', reason, from, peak, fits);
      }
    } catch {
      // The pool closed meanwhile: nothing to decide any more.
    } finally {
      this.shrinking = false;
    }
  }

  private decided(
    action: 'scale-up' | 'scale-down',
    reason: string,
    from: number,
    inFlight: number,
    threshold: number,
  ): void {
    const to = this.host.size;
    const pool = this.pool;
    this.last = { action, reason, from, to, at: new Date().toISOString() };
    this.logger.log(`autoscale ${action} ${from} -> ${to}: ${reason}`);
    publish('autoscaleDecision', () => ({ pool, action, reason, from, to, inFlight, threshold }));
    this.alternations =
      this.lastDirection !== undefined && this.lastDirection !== action ? this.alternations + 1 : 1;
    this.lastDirection = action;
    if (this.alternations >= THRASH_RUN) {
      this.alternations = 0;
      this.thrashed(action);
    }
  }

  private thrashed(lastAction: 'scale-up' | 'scale-down'): void {
    const pool = this.pool;
    const directions = Array.from({ length: THRASH_RUN }, (_, i) =>
      (THRASH_RUN - 1 - i) % 2 === 0
        ? lastAction
        : lastAction === 'scale-up'
          ? 'scale-down'
          : 'scale-up',
    );
    const advice =
      'lower autoscale.scaleDownAt (further below scaleUpAt), raise autoscale.windows or ' +
      'autoscale.sampleIntervalMs, or raise autoscale.cooldownMs; check that ' +
      "autoscale.streamsPerMember matches the server's MAX_CONCURRENT_STREAMS";
    this.logger.warn(
      `autoscaler resized ${THRASH_RUN} times in a row in alternating directions (thrashing): ${advice}`,
    );
    publish('autoscaleThrash', () => ({ pool, directions, advice }));
  }
}
