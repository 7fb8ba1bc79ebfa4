import type { LoggerService } from '@nestjs/common';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { Member } from '../member/member.js';
import type { MemberExtra } from './member-factory.js';
import { CONNECTED } from '../member/member-lifecycle.js';
import { publish, type RenewalReason } from '../telemetry/pool-events.js';
import type { RenewOutcome, ReplaceRequest } from './member-policy.js';
import type { OperationQueue } from './operation-queue.js';

/** What a replacement needs of the membership (which implements it). */
export interface ReplacementHost {
  readonly members: readonly Member[];
  readonly closed: boolean;
  make(target: string, extra: MemberExtra): Member;
  swap(old: Member, fresh: Member, reason: string): boolean;
  drain(members: readonly Member[], why: 'renewal', reason: string): Promise<number>;
  untilConnected(member: Member, timeoutMs: number, failFast?: boolean): Promise<boolean>;
}

/**
 * Make-before-break, the one way a member is replaced (renewal by age, a reset budget running
 * low, a move to another address): a new member (new id, own counters) connects as `standby`,
 * passes `warmUp`, then takes the old one's place in one queued step — in the slot table
 * before the old one leaves it, so the ready count never drops — and the old one drains.
 * The new member starts with the old one's holds (NOT_SERVING, an ejection): a replacement
 * never brings back a member that health checking or ejection took out.
 *
 * One replacement at a time, in the order asked (each caller gets its answer); asking again
 * for a member already waiting gets the same promise. A member that left by its turn (scaled
 * down, replaced, closed) is not replaced.
 */
export class Replacements {
  done = 0;
  failed = 0;
  /** The new member of the replacement under way, while it is not yet swapped in. */
  private fresh: Member | undefined = undefined;
  private current: { memberId: number; reason: RenewalReason } | undefined = undefined;
  private readonly waiting = new Map<Member, Promise<RenewOutcome>>();
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: ResolvedPoolOptions,
    private readonly queue: OperationQueue,
    private readonly membership: ReplacementHost,
    private readonly logger: LoggerService,
  ) {}

  /** Replacements in the making (at most one), for `status()` and shutdown. */
  get making(): Member[] {
    return this.fresh === undefined || this.fresh.leaving ? [] : [this.fresh];
  }

  /** Whether a replacement is running or waiting. */
  get busy(): boolean {
    return this.waiting.size > 0;
  }

  get running(): { memberId: number; reason: RenewalReason } | undefined {
    return this.current;
  }

  replace(old: Member, request: ReplaceRequest): Promise<RenewOutcome> {
    const known = this.waiting.get(old);
    if (known !== undefined) {
      return known;
    }
    const outcome = this.turn.then(() => this.run(old, request));
    this.turn = outcome;
    this.waiting.set(old, outcome);
    void outcome.finally(() => this.waiting.delete(old));
    return outcome;
  }

  private async run(
    old: Member,
    { reason, address, failFast = false }: ReplaceRequest,
  ): Promise<RenewOutcome> {
    const memberId = old.id;
    const pool = this.options.name;
    const started = Date.now();
    const ageMs = old.connection.readySince === undefined ? 0 : started - old.connection.readySince;
    const target = old.target;
    let fresh: Member | undefined;
    try {
      fresh = await this.queue.run(() => {
        if (!this.membership.members.includes(old)) {
          return undefined;
        }
        const made = this.membership.make(target, {
          address,
          standby: true,
          renewedFrom: memberId,
          outs: old.outs(),
        });
        this.fresh = made;
        made.start();
        return made;
      });
    } catch {
      return { renewed: false, memberId, why: 'the pool closed' };
    }
    if (fresh === undefined) {
      return { renewed: false, memberId, why: 'it left the pool' };
    }
    const made = fresh;
    const event = () => ({
      pool,
      reason,
      memberId,
      newMemberId: made.id,
      target,
      ageMs,
      durationMs: Date.now() - started,
    });
    this.current = { memberId, reason };
    publish('renewalStart', () => ({ pool, phase: 'start', reason, memberId, target, ageMs }));
    try {
      if (!(await this.membership.untilConnected(made, this.options.connectTimeoutMs, failFast))) {
        throw new Error(
          this.membership.closed
            ? 'the pool closed'
            : failFast && made.connection.lastError !== undefined
              ? `its new connection to ${target} failed: ${made.connection.lastError}`
              : `its new connection to ${target} was not READY within connectTimeoutMs (${this.options.connectTimeoutMs} ms)` +
                (made.connection.lastError ? `; last error: ${made.connection.lastError}` : ''),
        );
      }
      await this.warmUp(made);
      const swapped = await this.queue.run(() => {
        if (!CONNECTED.includes(made.state)) {
          throw new Error('its new connection left READY before it could take the slot');
        }
        if (!this.membership.swap(old, made, this.drainReason(memberId))) {
          throw new Error('it left the pool while its new connection was made');
        }
        this.fresh = undefined;
        return true;
      });
      this.done += Number(swapped);
      publish('renewalDone', () => ({ ...event(), phase: 'done' }));
      this.logger.log(
        `member ${memberId} renewed (${reason}) after ${ageMs} ms: member ${made.id} took its place`,
      );
      return { renewed: true, memberId, newMemberId: made.id };
    } catch (error) {
      const why = this.membership.closed ? 'the pool closed' : (error as Error).message;
      if (this.fresh === made) {
        this.fresh = undefined;
        // Nothing of it was handed out: close it (its connection attempts too) at once.
        await this.membership.drain(
          [made],
          'renewal',
          `gRPC pool "${pool}": renewal of member ${memberId} cancelled`,
        );
      }
      if (!this.membership.closed) {
        this.failed++;
        this.logger.warn(
          `member ${memberId} to ${target} was not renewed (${reason}): ${why}; it keeps serving`,
        );
      }
      publish('renewalFailed', () => ({ ...event(), phase: 'failed', error: why }));
      return { renewed: false, memberId, why };
    } finally {
      this.current = undefined;
    }
  }

  /** The user's `warmUp` on the new member: up to two tries of `warmUpTimeoutMs` each. */
  private async warmUp(fresh: Member): Promise<void> {
    const { warmUp, warmUpTimeoutMs } = this.options;
    if (warmUp === undefined) {
      return;
    }
    let last: unknown;
    for (let attempt = 1; attempt <= 2; attempt++) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          warmUp(fresh.channel),
          new Promise((_, reject) => {
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
      if (this.membership.closed || fresh.leaving) {
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
