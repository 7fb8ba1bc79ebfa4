import { connectivityState as State } from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { MemberChannel } from '../member/member-channel.js';
import type { PoolStateService } from '../state/pool-state.service.js';
import { publish, type RenewalReason } from '../telemetry/pool-events.js';
import type { ChannelWorker } from './channel-worker.js';
import type { PoolMembers } from './pool-members.js';

/** How one renewal ended. `renewed: false` leaves the old member serving, as it was. */
export type RenewOutcome =
  | { readonly renewed: true; readonly memberId: number; readonly newMemberId: number }
  | { readonly renewed: false; readonly memberId: number; readonly why: string };

/**
 * Renews pool members make-before-break, one at a time: a new member (a new worker, with a
 * new id and its own counters) connects to the target, becomes READY and passes `warmUp`,
 * then takes the old member's slot in one critical section of the slot table, so the ready
 * count never drops; the old member takes no new call and drains before it closes.
 *
 * Renewals queue (FIFO) rather than being skipped, so that every caller (max age, a reset
 * budget running low, a move to another address) gets its answer; asking again for a member
 * already queued gets the same promise. A member no longer kept when its turn comes (scaled
 * down, closed, renewed) is not renewed. `stop()` (shutdown) cancels the renewal in flight
 * and closes its new connection, sockets still connecting included.
 */
export class MemberRenewal {
  /** Renewals done and failed since start, for `status()`. */
  done = 0;
  failed = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly queued = new Map<ChannelWorker, Promise<RenewOutcome>>();
  private current: { memberId: number; reason: RenewalReason; abort: AbortController } | undefined;
  private stopped = false;

  constructor(
    private readonly options: ResolvedPoolOptions,
    private readonly roster: PoolMembers,
    private readonly state: PoolStateService<ChannelWorker, MemberChannel>,
    private readonly logger: LoggerService,
  ) {}

  /** Whether a renewal is running or queued. */
  get busy(): boolean {
    return this.queued.size > 0;
  }

  /** The renewal running now, if any. */
  get running(): { memberId: number; reason: RenewalReason } | undefined {
    return this.current && { memberId: this.current.memberId, reason: this.current.reason };
  }

  /**
   * Renews `worker`'s connection, to `target` (default: the same one). Resolves once the new
   * member holds the slot (the old one draining), or with why not; never rejects.
   */
  renew(
    worker: ChannelWorker,
    reason: RenewalReason,
    target = worker.target,
  ): Promise<RenewOutcome> {
    const known = this.queued.get(worker);
    if (known !== undefined) {
      return known;
    }
    const outcome = this.queue.then(() => this.renewNow(worker, reason, target));
    this.queue = outcome;
    this.queued.set(worker, outcome);
    void outcome.finally(() => this.queued.delete(worker));
    return outcome;
  }

  /** Shutdown: cancels the running renewal and waits until its new connection is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort.abort();
    await this.queue;
  }

  private async renewNow(
    old: ChannelWorker,
    reason: RenewalReason,
    target: string,
  ): Promise<RenewOutcome> {
    const memberId = old.id;
    if (this.stopped || !this.roster.list().includes(old)) {
      return {
        renewed: false,
        memberId,
        why: this.stopped ? 'the pool closed' : 'it left the pool',
      };
    }
    const pool = this.options.name;
    const started = Date.now();
    const ageMs = old.readySince === undefined ? 0 : started - old.readySince;
    const abort = new AbortController();
    this.current = { memberId, reason, abort };
    publish('renewalStart', () => ({ pool, phase: 'start', reason, memberId, target, ageMs }));
    let wake = (): void => {};
    const fresh = this.roster.make(target, {
      standby: true,
      renewedFrom: memberId,
      onStateChange: () => wake(),
    });
    fresh.start();
    try {
      await this.untilReady(fresh, abort.signal, (listener) => (wake = listener));
      await this.warmUp(fresh, abort.signal);
      if (fresh.state !== State.READY) {
        throw new Error('its new connection left READY before it could take the slot');
      }
      if (!this.roster.list().includes(old)) {
        throw new Error('it left the pool (scale-down) while its new connection was made');
      }
      // One synchronous step: the slot changes hands in the table's queue before the old
      // member's drain asks to leave it, so the ready count never drops.
      fresh.admit();
      const replaced = this.state.replace(old, fresh, fresh.member);
      this.roster.swap(old, fresh, this.drainReason(memberId));
      await replaced;
      this.done++;
      publish('renewalDone', () => ({
        pool,
        phase: 'done',
        reason,
        memberId,
        newMemberId: fresh.id,
        target,
        ageMs,
        durationMs: Date.now() - started,
      }));
      this.logger.log(
        `member ${memberId} renewed (${reason}) after ${ageMs} ms: member ${fresh.id} took its slot`,
      );
      return { renewed: true, memberId, newMemberId: fresh.id };
    } catch (error) {
      const why = (error as Error).message;
      // Nothing of it was handed out: close it (its connection attempts too) at once.
      await fresh.drain(0, `gRPC pool "${pool}": renewal of member ${memberId} cancelled`);
      // Its warm-up calls, if any, stay in the pool's totals.
      this.roster.foldUnkept(fresh);
      if (!abort.signal.aborted) {
        this.failed++;
        this.logger.warn(
          `member ${memberId} to ${old.target} was not renewed (${reason}): ${why}; it keeps serving`,
        );
      }
      publish('renewalFailed', () => ({
        pool,
        phase: 'failed',
        reason,
        memberId,
        newMemberId: fresh.id,
        target,
        ageMs,
        durationMs: Date.now() - started,
        error: why,
      }));
      return { renewed: false, memberId, why };
    } finally {
      this.current = undefined;
    }
  }

  /** Resolves when `fresh` is READY; rejects after connectTimeoutMs or on shutdown. */
  private untilReady(
    fresh: ChannelWorker,
    signal: AbortSignal,
    listen: (listener: () => void) => void,
  ): Promise<void> {
    const { connectTimeoutMs } = this.options;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        listen(() => {});
        if (error) reject(error);
        else resolve();
      };
      const onAbort = () => done(new Error('the pool closed'));
      const timer = setTimeout(
        () =>
          done(
            new Error(
              `its new connection to ${fresh.target} was not READY within connectTimeoutMs (${connectTimeoutMs} ms)` +
                (fresh.lastError ? `; last error: ${fresh.lastError}` : ''),
            ),
          ),
        connectTimeoutMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      listen(() => fresh.state === State.READY && done());
      if (fresh.state === State.READY) done();
    });
  }

  /** The user's `warmUp` on the new member: up to two tries of `warmUpTimeoutMs` each. */
  private async warmUp(fresh: ChannelWorker, signal: AbortSignal): Promise<void> {
    const { warmUp, warmUpTimeoutMs } = this.options;
    if (warmUp === undefined) {
      return;
    }
    let last: unknown;
    for (let attempt = 1; attempt <= 2; attempt++) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          warmUp(fresh.member),
          new Promise((_, reject) => {
            signal.addEventListener('abort', () => reject(new Error('the pool closed')), {
              once: true,
            });
            timer = setTimeout(
              () => reject(new Error(`took longer than warmUpTimeoutMs (${warmUpTimeoutMs} ms)`)),
              warmUpTimeoutMs,
            );
          }),
        ]);
        return;
      } catch (error) {
        last = error;
      } finally {
        clearTimeout(timer);
      }
      if (signal.aborted) {
        throw new Error('the pool closed');
      }
    }
    throw new Error(`warmUp failed twice: ${(last as Error)?.message ?? String(last)}`);
  }

  private drainReason(memberId: number): string {
    return (
      `gRPC pool "${this.options.name}": member ${memberId} was renewed and its drainTimeoutMs ` +
      `(${this.options.drainTimeoutMs} ms) passed`
    );
  }
}
