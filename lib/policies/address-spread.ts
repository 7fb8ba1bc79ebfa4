import { connectivityState as State, type ChannelOptions } from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import { RESOLVE_ON_FAILURE_MIN_MS } from '../grpc-pool.constants.js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import { addressLabel, spreadName, type SpreadName } from '../options/resolve-addresses.js';
import { publish } from '../telemetry/pool-events.js';
import type { Member } from '../member/member.js';
import type { MemberControl, MemberPlacement, MemberPolicy } from '../membership/member-policy.js';
import { planMoves, strongest, type RefreshReason } from './spread-plan.js';
import { SpreadTarget } from './spread-target.js';

/**
 * Spreads the members of each host-name target over the name's addresses, instead of
 * letting every member's grpc-js `pick_first` take the first address (N/0/0).
 *
 * Resolves names itself, at start, every `resolveIntervalMs` and (at most every 5 s) when a
 * member's address fails. A member whose address refuses holds no slot, so it is simply
 * pointed at the least used live address at once: from the first connection on, members
 * end up on live addresses (`localhost` → `::1` and `127.0.0.1`, a server on one of them).
 * After a resolution, members are rebalanced evenly; a READY member moves make-before-break
 * (a new member on the new address takes a slot first, then the old one drains), at most
 * ⌈N/K⌉ of them per resolution, so the ready count never drops to rebalance. The seam to a
 * generic member renewal is `moveServing`.
 */
export class AddressSpread implements MemberPlacement, MemberPolicy {
  private readonly targets = new Map<string, SpreadTarget>();
  private timer: NodeJS.Timeout | undefined = undefined;
  private failureTimer: NodeJS.Timeout | undefined = undefined;
  private lastResolve = 0;
  private running: Promise<void> | undefined = undefined;
  private again: RefreshReason | undefined = undefined;
  private stopped = false;
  /** Members whose make-before-break move is under way. */
  private readonly moving = new Set<Member>();
  /** The pool's membership, asked for moves once it exists (see `control`). */
  private members: MemberControl | undefined = undefined;

  /** The spread of a pool, or `undefined` when none of its targets is a name to spread. */
  static of(options: ResolvedPoolOptions, logger: LoggerService): AddressSpread | undefined {
    if (options.addressMode !== 'spread') {
      return undefined;
    }
    const names = options.urls.flatMap((url) => spreadName(url) ?? []);
    return names.length === 0 ? undefined : new AddressSpread(options, names, logger);
  }

  private constructor(
    private readonly options: ResolvedPoolOptions,
    names: readonly SpreadName[],
    private readonly logger: LoggerService,
  ) {
    for (const name of names) {
      this.targets.set(
        name.url,
        new SpreadTarget(name, options, logger, () => this.refresh('retry')),
      );
    }
  }

  /** The membership this spread places members for and asks for moves (set once, at assembly). */
  control(members: MemberControl): void {
    this.members = members;
  }

  private get kept(): readonly Member[] {
    return this.members?.members ?? [];
  }

  /**
   * Resolves every name once, so the first members dial addresses (waits at most
   * `connectTimeoutMs`; a name still unresolved then is dialled through grpc-js until a
   * resolution succeeds), then starts the re-resolution timer.
   */
  async resolveNames(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const first = this.resolve('start').then(() => {
      // Resolved after the members started (held): place them now.
      if (late) this.refresh('failure');
    });
    await Promise.race([
      first,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          late = true;
          resolve();
        }, this.options.connectTimeoutMs).unref();
      }),
    ]);
    clearTimeout(timer);
    if (!this.stopped) {
      this.timer = setInterval(() => this.refresh('timer'), this.options.resolveIntervalMs).unref();
    }
  }

  /** Stops resolving and moving; moves under way give up (their new members are drained by close). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.failureTimer);
    for (const spread of this.targets.values()) spread.stop();
  }

  place(target: string): string | null | undefined {
    const spread = this.targets.get(target);
    if (spread === undefined) {
      return undefined;
    }
    // Unresolved: no dial to a name the pool could not resolve (grpc-js would ask the same
    // resolver); the member starts once a resolution places it.
    return spread.dials.length === 0
      ? null
      : (spread.choose(this.kept, { orEarliest: true }) ?? null);
  }

  addressArgs(target: string): Readonly<ChannelOptions> | undefined {
    return this.targets.get(target)?.args;
  }

  note(target: string): string | undefined {
    return this.targets.get(target)?.error;
  }

  connectionChanged(member: Member): void {
    const spread = this.targets.get(member.target);
    const address = member.connection.address;
    if (this.stopped || spread === undefined || address === undefined || member.leaving) {
      return;
    }
    if (member.connection.state === State.READY) {
      // Back from a refusal (a probe got through): the other members may follow now.
      if (spread.served(address)) this.refresh('retry');
      return;
    }
    if (member.connection.state !== State.TRANSIENT_FAILURE) {
      return;
    }
    spread.refuse(address);
    this.resolveSoon();
    if (this.kept.includes(member)) {
      // Not from inside the member's own transition: it is still telling its listeners.
      queueMicrotask(() => this.repoint(member, spread, 'address-down'));
    }
  }

  /** Resolves now, or once the last resolution is `RESOLVE_ON_FAILURE_MIN_MS` old. */
  private resolveSoon(): void {
    const wait = this.lastResolve + RESOLVE_ON_FAILURE_MIN_MS - Date.now();
    if (wait <= 0) {
      this.refresh('failure');
    } else {
      this.failureTimer ??= setTimeout(() => {
        this.failureTimer = undefined;
        this.refresh('failure');
      }, wait).unref();
    }
  }

  /**
   * One resolution and rebalance at a time; one asked for meanwhile runs after it. `retry`
   * (a backoff expired, an address served again) rebalances without resolving.
   */
  private refresh(reason: RefreshReason): void {
    if (this.stopped) {
      return;
    }
    if (this.running) {
      this.again = strongest(this.again, reason);
      return;
    }
    this.running = (reason === 'retry' ? Promise.resolve() : this.resolve(reason))
      .then(() => this.rebalance())
      .catch((error: unknown) => this.logger.warn(`address spread: ${(error as Error).message}`))
      .finally(() => {
        this.running = undefined;
        const next = this.again;
        this.again = undefined;
        if (next) this.refresh(next);
      });
  }

  private async resolve(reason: 'start' | 'timer' | 'failure'): Promise<void> {
    this.lastResolve = Date.now();
    await Promise.all([...this.targets.values()].map((spread) => spread.resolve(reason)));
  }

  /**
   * Spreads each target's members evenly over its addresses that are not down (see
   * `planMoves`): members on a down address go to live ones, one member probes each address
   * whose backoff expired. When every address is down, the members wait for the first
   * backoff to expire; then they go there.
   */
  private async rebalance(): Promise<void> {
    const serving: Promise<void>[] = [];
    const now = Date.now();
    for (const spread of this.targets.values()) {
      const live = spread.live(now);
      const unproven = new Set(live.filter((dial) => spread.refused.has(dial)));
      const members = this.kept.filter(
        (member) => member.target === spread.name.url && !this.moving.has(member),
      );
      const moves = planMoves(members, live, unproven);
      for (const move of moves) {
        if (move.member.state === 'serving' || move.member.state === 'held') {
          serving.push(this.moveServing(move.member, move.to, spread));
        } else {
          this.point(move.member, move.to, 'rebalance');
        }
      }
      // Left where they are: members failing on an address whose backoff expired dial it again
      // now, on the pool's backoff rather than their channel's (which grows to maxMs).
      for (const member of members) {
        const address = member.connection.address;
        if (
          member.connection.state === State.TRANSIENT_FAILURE &&
          address !== undefined &&
          unproven.has(address) &&
          !moves.some((move) => move.member === member)
        ) {
          this.members?.redial(member, 'address-moved', address);
        }
      }
    }
    await Promise.all(serving);
  }

  /** Points a member that holds no slot at the least used other live address, if any. */
  private repoint(member: Member, spread: SpreadTarget, reason: 'address-down'): void {
    if (this.stopped || member.connection.state === State.READY || !this.kept.includes(member)) {
      return;
    }
    // None live: it waits for the first backoff to expire (`armRetry`), not redialling a
    // down address in a loop.
    const to = spread.choose(this.kept, { except: member.connection.address });
    if (to !== undefined) {
      this.point(member, to, reason);
    }
  }

  private point(member: Member, to: string, reason: 'address-down' | 'rebalance'): void {
    const from = member.connection.address;
    this.members?.redial(member, 'address-moved', to);
    this.published(member, from, to, reason, undefined);
  }

  /**
   * Make-before-break, through the membership's one `replace`: a new member on `to` takes
   * the old one's place once connected; if it cannot connect, the address is refused (its
   * backoff grows) and the old member stays.
   */
  private async moveServing(old: Member, to: string, spread: SpreadTarget): Promise<void> {
    if (this.members === undefined) return;
    this.moving.add(old);
    try {
      const from = old.connection.address;
      const outcome = await this.members.replace(old, {
        reason: 'move',
        address: to,
        failFast: true,
      });
      if (outcome.renewed) {
        this.published(old, from, to, 'rebalance', outcome.newMemberId);
      } else if (!this.stopped && !this.members.closed) {
        spread.refuse(to);
      }
    } finally {
      this.moving.delete(old);
    }
  }

  private published(
    member: Member,
    from: string | undefined,
    to: string,
    reason: 'address-down' | 'rebalance',
    newMemberId: number | undefined,
  ): void {
    this.logger.log(
      `member ${member.id} of ${member.target} moved from ${from ? addressLabel(from) : 'the name'} to ${addressLabel(to)} (${reason})`,
    );
    publish('memberMoved', () => ({
      pool: this.options.name,
      memberId: member.id,
      target: member.target,
      from: from && addressLabel(from),
      to: addressLabel(to),
      reason,
      makeBeforeBreak: newMemberId !== undefined,
      ...(newMemberId !== undefined && { newMemberId }),
    }));
  }
}
