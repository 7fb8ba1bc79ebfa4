import type { LoggerService } from '@nestjs/common';
import type { MemberOutInfo, MemberOutReason } from '../interfaces/pool-status.interface.js';
import type { ChannelWorker } from '../pool/channel-worker.js';
import { publish } from '../telemetry/pool-events.js';

/** Why a member is out, as its worker holds it (times in ms since epoch). */
export interface MemberOut {
  readonly reason: MemberOutReason;
  readonly since: number;
  readonly until?: number;
}

/** The server's word first: it is what brings the member back, whatever else holds it. */
const PRIORITY: readonly MemberOutReason[] = [
  'NOT_SERVING',
  'SERVICE_UNKNOWN',
  'probe-failures',
  'ejected',
];

/**
 * Who holds which member out of the slot table, and why. A member may be held for several
 * reasons at once (its server says NOT_SERVING and its calls got it ejected); it comes back
 * when the last one lets go. The worker shows the weightiest reason in `status()`.
 *
 * The guard (Bigtable's channel pool does the same): a removal that is not the server's own
 * word never leaves fewer than half the members in rotation, so that a client-side fault
 * (a slow probe path, a burst of failures) cannot empty the pool.
 */
export class MemberOuts {
  private readonly held = new Map<ChannelWorker, Map<MemberOutReason, MemberOut>>();

  constructor(
    private readonly pool: string,
    private readonly members: () => readonly ChannelWorker[],
    private readonly logger: LoggerService,
  ) {}

  /** Whether `worker` is held out for `reason`. */
  has(worker: ChannelWorker, reason: MemberOutReason): boolean {
    return this.held.get(worker)?.has(reason) ?? false;
  }

  /**
   * Whether the guard lets `worker` go out for a reason that is not the server's word: at
   * least half the members stay in rotation. A member already out costs nothing more.
   */
  mayTakeOut(worker: ChannelWorker): boolean {
    if (worker.out !== undefined) {
      return true;
    }
    const members = this.members();
    const inRotation = members.length - this.outCount() - 1;
    return inRotation * 2 >= members.length;
  }

  /** Holds `worker` out for `reason` (until `until`, ms since epoch, if given). */
  takeOut(worker: ChannelWorker, reason: MemberOutReason, until?: number): void {
    let reasons = this.held.get(worker);
    if (reasons?.has(reason)) {
      return;
    }
    if (reasons === undefined) {
      reasons = new Map();
      this.held.set(worker, reasons);
    }
    const since = Date.now();
    reasons.set(reason, { reason, since, ...(until !== undefined && { until }) });
    worker.setOut(weightiest(reasons));
    this.logger.warn(
      `member ${worker.id} to ${worker.target} is out of rotation (${reason}` +
        `${until === undefined ? '' : ` for ${until - since} ms`}); its connection stays open`,
    );
    publish('memberOut', () => ({
      ...this.base(worker),
      reason,
      ...(until !== undefined && { durationMs: until - since }),
      out: this.outCount(),
      size: this.members().length,
    }));
  }

  /** Lets go of `worker` for `reason`; it is back in rotation once nothing else holds it. */
  bringBack(worker: ChannelWorker, reason: MemberOutReason): void {
    const reasons = this.held.get(worker);
    const out = reasons?.get(reason);
    if (reasons === undefined || out === undefined) {
      return;
    }
    reasons.delete(reason);
    if (reasons.size === 0) {
      this.held.delete(worker);
    }
    worker.setOut(weightiest(reasons));
    if (worker.out === undefined) {
      this.logger.log(
        `member ${worker.id} to ${worker.target} is back in rotation (was ${reason})`,
      );
    }
    publish('memberBack', () => ({ ...this.base(worker), reason, outMs: Date.now() - out.since }));
  }

  /** Tells that the guard kept `worker` in rotation although `reason` would take it out. */
  heldBack(worker: ChannelWorker, reason: MemberOutReason): void {
    this.logger.debug?.(
      `member ${worker.id} to ${worker.target} stays in rotation despite ${reason}: ` +
        'at least half the members must stay in',
    );
    publish('memberOutHeld', () => ({
      ...this.base(worker),
      reason,
      out: this.outCount(),
      size: this.members().length,
    }));
  }

  /** Lets go of every member for the given reasons (health checking switched off). */
  releaseAll(reasons: readonly MemberOutReason[]): void {
    for (const worker of [...this.held.keys()]) {
      for (const reason of reasons) {
        this.bringBack(worker, reason);
      }
    }
  }

  /** Drops the records of members no longer in the pool. */
  forgetGone(present: ReadonlySet<ChannelWorker>): void {
    for (const worker of this.held.keys()) {
      if (!present.has(worker)) {
        this.held.delete(worker);
      }
    }
  }

  private outCount(): number {
    let out = 0;
    for (const worker of this.members()) {
      if (worker.out !== undefined) out++;
    }
    return out;
  }

  private base(worker: ChannelWorker) {
    return { pool: this.pool, memberId: worker.id, target: worker.target };
  }
}

function weightiest(reasons: ReadonlyMap<MemberOutReason, MemberOut>): MemberOut | undefined {
  for (const reason of PRIORITY) {
    const out = reasons.get(reason);
    if (out !== undefined) return out;
  }
  return undefined;
}

/** A held member as `status()` shows it. */
export function describeOut(out: MemberOut): MemberOutInfo {
  return {
    reason: out.reason,
    since: new Date(out.since).toISOString(),
    ...(out.until !== undefined && { until: new Date(out.until).toISOString() }),
  };
}
