import { setMaxListeners } from 'node:events';
import {
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { type ChannelInterface as Channel, type ClientOptions } from '@grpc/grpc-js';
import { MAX_TIMER_MS } from '../grpc-pool.constants.js';
import { PoolClosedError, PoolNotReadyError, PoolTimeoutError } from '../errors/pool.errors.js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import type { PoolStatus, PoolMemberInfo } from '../interfaces/pool-status.interface.js';
import type { PoolStrategy } from '../interfaces/pool-strategy.interface.js';
import type { MemberChannel } from '../member/member-channel.js';
import type { PoolStateService } from '../state/pool-state.service.js';
import { createStrategy } from '../strategies/create-strategy.js';
import { createPicker, type MemberPicker } from '../strategies/member-pickers.js';
import { PoolChannel } from '../channel/pool-channel.js';
import { PoolClients, type GrpcClientConstructor } from '../clients/pool-clients.js';
import type { Member } from '../member/member.js';
import type { ManualScaleOptions } from './pool-scaler.js';
import { PoolMembership } from './pool-membership.js';
import { checkWholeNumber } from '../options/check-whole-number.js';
import { untilReady } from './until-ready.js';
import { publish } from '../telemetry/pool-events.js';

/**
 * One pool of gRPC channels, and its face: hand out a member per call, wait for readiness,
 * scale, report, close. Inject it with `@InjectPool(name?)` (the default pool also as
 * `PoolService`).
 *
 * @example
 * constructor(@InjectPool() private readonly pool: PoolService) {}
 * const client = new HeroClient(target, creds, { channelOverride: this.pool.getChannel() });
 */
export class PoolService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  /** The pool's name (`'default'` unless `forRoot` named it). */
  readonly name: string;
  /**
   * The whole pool as one grpc-js `Channel` that picks a member per call: give it to any
   * client as `{ channelOverride: pool.channel }`. Its `close()` is a no-op; the pool's
   * lifecycle owns the connections.
   */
  readonly channel: Channel;
  private readonly clients: PoolClients;
  private readonly strategy: PoolStrategy;
  /** The members and everything that changes them (scaling, spreading, health, renewal). */
  private readonly membership: PoolMembership;
  /**
   * The hot path: the strategy's pick over the slot table; counts the members handed out.
   * Named `picker` on purpose: {@link getChannel} and {@link tryGetChannel} are the picker's
   * `take`/`tryTake`, which run with the pool as `this` and read `this.picker`.
   */
  private readonly picker: MemberPicker<MemberChannel>;
  /**
   * A ready member for one call (or for one client built on it). The hot path: a length
   * read, the strategy's pick and an array read — no await, no allocation, no clock read.
   * One function per strategy class, shared by every pool of that class (see
   * `MemberPicker`): a caller's `pool.getChannel()` has the whole pick inlined, whatever
   * strategies other pools in the app use.
   *
   * @throws PoolNotReadyError when no member is ready; PoolClosedError after `close()`.
   */
  readonly getChannel: () => Channel;
  /** Like {@link getChannel}, but `undefined` instead of throwing when no member is ready. */
  readonly tryGetChannel: () => Channel | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly lifetime = new AbortController();
  private closing: Promise<void> | undefined;
  /**
   * Set the moment `close()` is called, before any of its work: what the pool reports from
   * then on (`pool.channel`'s SHUTDOWN, the members' decisions) is true at once.
   */
  private closed = false;
  private readonly logger: Logger;

  constructor(
    private readonly options: ResolvedPoolOptions,
    private readonly state: PoolStateService<Member, MemberChannel>,
  ) {
    this.name = options.name;
    this.strategy = createStrategy(options.name, options.strategy, options.peakEwma);
    this.picker = createPicker(this.strategy, state.slots, () => {
      throw this.noMemberError();
    });
    this.getChannel = this.picker.take;
    this.tryGetChannel = this.picker.tryTake;
    this.logger = new Logger(`GrpcPool(${options.name})`);
    // Every pending awaitReady() listens for close(): any number of callers is fine.
    setMaxListeners(Infinity, this.lifetime.signal);
    this.membership = new PoolMembership(
      options,
      state,
      this.logger,
      () => this.closed,
      () => this.channel,
      this.strategy,
    );
    this.channel = new PoolChannel({
      name: options.name,
      target: options.urls.join(','),
      connectivity: this.membership.connectivity,
      memberForCall: () => this.memberForCall(),
    });
    this.clients = new PoolClients(options.name, this.channel, options.proto, options.interceptors);
  }

  /**
   * A member for one call on `pool.channel`: as {@link tryGetChannel} while a member is
   * ready; otherwise the member grpc-js should queue the call on, or why there is none.
   */
  private memberForCall(): MemberChannel | string {
    const ready = this.tryGetChannel() as MemberChannel | undefined;
    return ready ?? this.membership.view.queueFor(this.closing !== undefined);
  }

  /**
   * Nest `ClientGrpc` Observable stubs of `service`, made by Nest's own `ClientGrpcProxy`
   * on `pool.channel`: every call is balanced over the members. Needs the proto options
   * (`package`, `protoPath`) in the pool's options.
   *
   * @example
   * const heroes = pool.getService<HeroService>('HeroService');
   * heroes.findOne({ id: 1 }).subscribe(console.log);
   */
  getService<T extends object>(service: string): T {
    return this.clients.getService<T>(service);
  }

  /** The raw grpc-js client of `service` on `pool.channel`, like `ClientGrpc.getClientByServiceName`. */
  getClientByServiceName<T = unknown>(service: string): T {
    return this.clients.getClientByServiceName<T>(service);
  }

  /**
   * A client of any grpc-js client constructor (proto-loader, grpc-tools, ts-proto) on
   * `pool.channel`, made once per constructor.
   *
   * @example const heroes = pool.getClient(HeroServiceClient);
   */
  getClient<T>(ctor: GrpcClientConstructor<T>): T {
    return this.clients.getClient(ctor);
  }

  /** A new client of `ctor` on `pool.channel` with its own options, e.g. `{ interceptors }`. */
  createClient<T>(ctor: GrpcClientConstructor<T>, options?: ClientOptions): T {
    return this.clients.createClient(ctor, options);
  }

  /**
   * Resolves once at least one member is ready. Rejects with {@link PoolTimeoutError} naming
   * each target and its last connection error when `timeoutMs` passes first, and with
   * {@link PoolClosedError} if the pool closes meanwhile.
   *
   * @param timeoutMs default: the pool's `readyTimeoutMs`, or 10,000 when that is 0
   */
  async awaitReady(timeoutMs: number = this.options.readyTimeoutMs || 10_000): Promise<void> {
    checkWholeNumber(this.name, 'awaitReady(timeoutMs)', timeoutMs, 0, MAX_TIMER_MS);
    this.throwIfClosed();
    if (this.state.count > 0) {
      return;
    }
    await untilReady((signal) => this.state.whenReady(signal), timeoutMs, this.lifetime.signal, {
      timedOut: () =>
        new PoolTimeoutError(this.name, timeoutMs, this.membership.view.describeTargets()),
      closed: () => new PoolClosedError(this.name),
    });
  }

  /**
   * Adds `n` members; resolves with the new size. Scale operations run one at a time, in
   * the order they were asked for; each checks its argument against the size it finds.
   */
  scaleUp(n: number, options?: ManualScaleOptions): Promise<number> {
    return this.membership.scaler.scaleUp(n, options);
  }

  /**
   * Removes `n` members, idle or least-loaded first, and drains them: their calls in flight
   * finish (up to `drainTimeoutMs`) before their connections close. Resolves with the new size.
   */
  scaleDown(n: number, options?: ManualScaleOptions): Promise<number> {
    return this.membership.scaler.scaleDown(n, options);
  }

  /**
   * Grows or shrinks the pool to `size` members; resolves with the new size. With
   * `autoscale` on, manual sizes stay within `[min, max]` unless `{ moveBounds: true }`,
   * and the autoscaler goes on from the size they leave.
   */
  resize(size: number, options?: ManualScaleOptions): Promise<number> {
    return this.membership.scaler.resize(size, options);
  }

  /** A snapshot: expected size, ready count, strategy and every member. */
  status(): PoolStatus {
    return this.membership.status({
      name: this.name,
      strategy: this.strategy.name,
      closed: this.closing !== undefined,
      picks: this.picker.picks,
    });
  }

  /** Every member with its slot, state, calls in flight and target. */
  members(): readonly PoolMemberInfo[] {
    return this.membership.view.describe();
  }

  /**
   * Stops handing out members at once, lets calls in flight finish for up to
   * `drainTimeoutMs`, cancels what is left and closes every connection. Idempotent: every
   * call returns the same promise.
   */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  /** @internal Nest lifecycle: members start connecting when the module initializes. */
  async onModuleInit(): Promise<void> {
    await this.clients.load();
    await this.membership.load();
    publish('init', () => ({
      pool: this.name,
      size: this.options.size,
      targets: this.options.urls,
      strategy: this.strategy.name,
    }));
    await this.membership.start(() => this.closed);
    if (this.options.statusIntervalMs > 0) {
      this.statusTimer = setInterval(
        () => publish('status', () => ({ pool: this.name, status: this.status() })),
        this.options.statusIntervalMs,
      ).unref();
    }
  }

  /** @internal Nest lifecycle: with `readyTimeoutMs`, bootstrap waits for a ready member. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.options.readyTimeoutMs === 0) {
      return;
    }
    try {
      await this.awaitReady(this.options.readyTimeoutMs);
    } catch (error) {
      if (this.options.onReadyTimeout === 'fail') {
        // Nest runs no shutdown hook after a failed bootstrap: release the members here.
        await this.close();
        throw error;
      }
      this.logger.warn(`${(error as Error).message}; starting anyway (onReadyTimeout: 'warn')`);
    }
  }

  /** @internal Nest lifecycle: drain and close on application shutdown. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  private async shutdown(): Promise<void> {
    this.picker.close();
    clearInterval(this.statusTimer);
    this.lifetime.abort();
    const cancelled = await this.membership.stop();
    if (cancelled > 0) {
      this.logger.warn(
        `cancelled ${cancelled} call(s) still in flight after drainTimeoutMs (${this.options.drainTimeoutMs} ms)`,
      );
    }
  }

  private throwIfClosed(): void {
    if (this.closing) {
      throw new PoolClosedError(this.name);
    }
  }

  private noMemberError(): Error {
    return this.closing
      ? new PoolClosedError(this.name)
      : new PoolNotReadyError(this.name, this.options.urls);
  }
}
