import { connectivityState as State, type ChannelOptions } from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import { RESOLVE_ON_FAILURE_MIN_MS } from '../grpc-pool.constants.js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import {
  addressLabel,
  dialTarget,
  seededOrder,
  spreadName,
  type SpreadName,
} from '../options/resolve-addresses.js';
import { publish } from '../telemetry/pool-events.js';
import type { Member } from '../member/member.js';
import type { MemberControl, MemberPlacement, MemberPolicy } from '../membership/membership.js';
import { planMoves } from './spread-plan.js';

/** One name the pool resolves: its addresses in this process's order, and which failed. */
interface SpreadTarget {
  readonly name: SpreadName;
  /** Channel args of members dialling one of its addresses: the name as authority and TLS name. */
  readonly args: Readonly<ChannelOptions>;
  /** Literal grpc-js targets (`ipv4:…`, `ipv6:[…]:…`), process-seeded order. */
  dials: string[];
  /** Addresses that refused or failed a member since the last timed resolution. */
  readonly dead: Set<string>;
  /** The resolver's last error, until a resolution succeeds. */
  error: string | undefined;
}

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
  private again: 'timer' | 'failure' | undefined = undefined;
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
    const own = options.channelOptions;
    const secure = options.credentials._isSecure();
    for (const name of names) {
      const args: ChannelOptions = {};
      // The user's own authority or TLS name win over the target's.
      if (own['grpc.default_authority'] === undefined) {
        args['grpc.default_authority'] = name.authority;
      }
      if (secure && own['grpc.ssl_target_name_override'] === undefined) {
        args['grpc.ssl_target_name_override'] = name.host;
      }
      this.targets.set(name.url, { name, args, dials: [], dead: new Set(), error: undefined });
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
  }

  place(target: string): string | null | undefined {
    const spread = this.targets.get(target);
    if (spread === undefined) {
      return undefined;
    }
    // Unresolved: no dial to a name the pool could not resolve (grpc-js would ask the same
    // resolver); the member starts once a resolution places it.
    return spread.dials.length === 0 ? null : (this.leastUsed(spread, undefined) ?? null);
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
      spread.dead.delete(address);
      return;
    }
    if (member.connection.state !== State.TRANSIENT_FAILURE) {
      return;
    }
    spread.dead.add(address);
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

  /** One resolution and rebalance at a time; one asked for meanwhile runs after it. */
  private refresh(reason: 'timer' | 'failure'): void {
    if (this.stopped) {
      return;
    }
    if (this.running) {
      this.again = this.again === 'timer' ? 'timer' : reason;
      return;
    }
    this.running = this.resolve(reason)
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
    await Promise.all([...this.targets.values()].map((spread) => this.resolveOne(spread, reason)));
  }

  private async resolveOne(spread: SpreadTarget, reason: string): Promise<void> {
    const { host, port, url } = spread.name;
    const pool = this.options.name;
    try {
      const found = await this.options.lookup(host);
      if (!Array.isArray(found) || found.length === 0) {
        throw new Error(`lookup ${host} returned no address`);
      }
      const dials = seededOrder(found.map((address) => dialTarget(address, port)));
      const added = dials.filter((dial) => !spread.dials.includes(dial));
      const removed = spread.dials.filter((dial) => !dials.includes(dial));
      spread.dials = dials;
      spread.error = undefined;
      // A timed resolution gives every address another chance (a backend back from a
      // restart); the move's new member is its probe, and the old member stays till it is READY.
      for (const dial of [...spread.dead]) {
        if (reason === 'timer' || !dials.includes(dial)) spread.dead.delete(dial);
      }
      if (added.length > 0 || removed.length > 0) {
        this.logger.log(`${url} resolves to ${dials.map(addressLabel).join(', ')}`);
        publish('addressesChanged', () => ({
          pool,
          target: url,
          addresses: dials.map(addressLabel),
          added: added.map(addressLabel),
          removed: removed.map(addressLabel),
        }));
      }
    } catch (caught) {
      const error = `could not resolve ${host}: ${(caught as Error).message}`;
      if (spread.error !== error) {
        this.logger.warn(`${url}: ${error}; keeping its last addresses`);
      }
      spread.error = error;
      publish('addressResolveFailed', () => ({ pool, target: url, error }));
    }
  }

  /** Spreads each target's members evenly over its live addresses (see `planMoves`). */
  private async rebalance(): Promise<void> {
    const serving: Promise<void>[] = [];
    for (const spread of this.targets.values()) {
      const live = spread.dials.filter((dial) => !spread.dead.has(dial));
      const members = this.kept.filter(
        (member) => member.target === spread.name.url && !this.moving.has(member),
      );
      for (const move of planMoves(members, live)) {
        if (move.member.state === 'serving' || move.member.state === 'held') {
          serving.push(this.moveServing(move.member, move.to, spread));
        } else {
          this.point(move.member, move.to, 'rebalance');
        }
      }
    }
    await Promise.all(serving);
  }

  /** Points a member that holds no slot at the least used other live address, if any. */
  private repoint(worker: Member, spread: SpreadTarget, reason: 'address-down'): void {
    if (this.stopped || worker.connection.state === State.READY || !this.kept.includes(worker)) {
      return;
    }
    const to = this.leastUsed(spread, worker.connection.address);
    if (to !== undefined) {
      this.point(worker, to, reason);
    }
  }

  private point(worker: Member, to: string, reason: 'address-down' | 'rebalance'): void {
    const from = worker.connection.address;
    this.members?.redial(worker, 'address-moved', to);
    this.published(worker, from, to, reason, undefined);
  }

  /**
   * Make-before-break, through the membership's one `replace`: a new member on `to` takes
   * the old one's place once connected; if it cannot connect, the address is marked failed
   * and the old member stays.
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
        spread.dead.add(to);
      }
    } finally {
      this.moving.delete(old);
    }
  }

  private published(
    worker: Member,
    from: string | undefined,
    to: string,
    reason: 'address-down' | 'rebalance',
    newMemberId: number | undefined,
  ): void {
    this.logger.log(
      `member ${worker.id} of ${worker.target} moved from ${from ? addressLabel(from) : 'the name'} to ${addressLabel(to)} (${reason})`,
    );
    publish('memberMoved', () => ({
      pool: this.options.name,
      memberId: worker.id,
      target: worker.target,
      from: from && addressLabel(from),
      to: addressLabel(to),
      reason,
      makeBeforeBreak: newMemberId !== undefined,
      ...(newMemberId !== undefined && { newMemberId }),
    }));
  }

  /** The live address (other than `except`) with the fewest members; ties: this process's order. */
  private leastUsed(spread: SpreadTarget, except: string | undefined): string | undefined {
    let best: string | undefined;
    let bestCount = Infinity;
    const members = this.kept;
    for (const dial of spread.dials) {
      if (dial === except || spread.dead.has(dial)) continue;
      const count = members.filter(
        (member) => member.target === spread.name.url && member.connection.address === dial,
      ).length;
      if (count < bestCount) {
        best = dial;
        bestCount = count;
      }
    }
    return best;
  }
}
