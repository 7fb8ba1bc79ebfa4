import {
  Channel,
  connectivityState as State,
  type ChannelCredentials,
  type ChannelInterface,
  type ChannelOptions,
} from '@grpc/grpc-js';
import { MEMBER_ID_CHANNEL_ARG } from '../grpc-pool.constants.js';
import { MemberChannel } from '../member/member-channel.js';
import { PeakEwma } from '../member/peak-ewma.js';
import { ConnectionAttempts } from './connection-attempts.js';
import { closeChannel, readLastConnectionError, reconnectBackoff } from './grpc-channel.js';
import type { MemberReporter } from './member-reporter.js';
import type { MemberReconnectEvent } from '../telemetry/pool-events.js';
import type { PoolStateService } from '../state/pool-state.service.js';
import type { MemberOut } from '../health-check/member-outs.js';

/** What a worker needs to keep its member connected. */
export interface ChannelWorkerConfig {
  /** The pool's name, for the statuses the worker words. */
  readonly pool: string;
  readonly id: number;
  readonly target: string;
  /**
   * With address spreading: the literal address (`ipv4:…`/`ipv6:…`) the member dials first
   * instead of `target`, and the channel args that keep `target`'s name as authority and TLS
   * server name there. Without: the member dials `target` and grpc-js resolves it.
   */
  readonly address?: string;
  readonly addressArgs?: Readonly<ChannelOptions>;
  readonly credentials: ChannelCredentials;
  readonly channelOptions: Readonly<ChannelOptions>;
  /** A member CONNECTING this long gets a fresh channel. */
  readonly connectTimeoutMs: number;
  /** Deadline (ms) given to calls on the member that set none; 0: off. */
  readonly defaultDeadlineMs?: number;
  /** Keep a peak-EWMA latency of the member's calls with this time constant (ms); unset: none. */
  readonly latencyTauMs?: number;
  /** Told after every connectivity change of the member. */
  readonly onStateChange: () => void;
  /** Logs and publishes the member's connection changes. */
  readonly reporter: MemberReporter;
  /** Where calls made on the member after it left the pool go: the pool's own channel. */
  readonly successor: () => ChannelInterface;
  /**
   * A renewal's new connection: READY takes no slot until {@link ChannelWorker.admit}
   * (the renewal puts it in the old member's slot itself). Default false.
   */
  readonly standby?: boolean;
  /** The member this one renewed, if it did. */
  readonly renewedFrom?: number;
}

/**
 * Keeps one pool member connected: owns its grpc-js channel (its own TCP connection),
 * follows its connectivity, holds a slot in the pool's table exactly while the channel is
 * READY, and drains it on the way out.
 *
 * Reconnecting is grpc-js's job (its backoff takes the pool's `backoff` options). The
 * worker only steps in where grpc-js would not: it wakes an IDLE channel at once, and it
 * replaces a channel that was shut down under it or sat CONNECTING past `connectTimeoutMs`.
 */
export class ChannelWorker {
  /** The member as the pool hands it out. */
  readonly member: MemberChannel;
  /** Connectivity of the member's channel as last seen. */
  state: State = State.IDLE;
  /** What the last failed connection attempt said, if any. */
  lastError: string | undefined = undefined;
  /** When the member last became READY (ms since epoch), or undefined when it is not. */
  readySince: number | undefined = undefined;
  /** Channels made for this member; 1 unless a channel had to be replaced. */
  generation = 0;
  /** When the state last changed (ms since epoch). */
  lastStateChange = Date.now();
  /** Times the member went from READY to not READY. */
  disconnects = 0;
  /** The literal address the member dials, when the pool spreads its target (see `moveTo`). */
  address: string | undefined;
  /** Set while health checking or ejection holds the member out of the slot table (see `setOut`). */
  out: MemberOut | undefined = undefined;
  private connectingSince = Date.now();
  private stopped = false;
  private connectTimer: NodeJS.Timeout | undefined = undefined;
  /** Connections in a row that looked like a server hanging up (see `droppedEarly`). */
  private quickDrops = 0;
  /** `member.started` when the member last became READY: did the connection serve calls? */
  private startedWhenReady = 0;
  /** Between leaving READY (or a first failed connect) and the next READY: one reconnect. */
  private inOutage = false;
  private wakeTimer: NodeJS.Timeout | undefined = undefined;
  /** The sockets of the current channel, which grpc-js alone would not release (see the class). */
  private attempts = new ConnectionAttempts();
  /** Whether READY takes a slot: false for a renewal's connection until it is swapped in. */
  private admitted: boolean;

  constructor(
    readonly config: ChannelWorkerConfig,
    private readonly slots: PoolStateService<ChannelWorker, MemberChannel>,
  ) {
    this.address = config.address;
    this.admitted = config.standby !== true;
    this.member = new MemberChannel(
      this.createChannel(),
      config.defaultDeadlineMs,
      config.latencyTauMs === undefined ? undefined : new PeakEwma(config.latencyTauMs),
    );
  }

  /** A standby worker from now on takes a slot whenever it is READY (see `standby`). */
  admit(): void {
    this.admitted = true;
  }

  get id(): number {
    return this.config.id;
  }

  get target(): string {
    return this.config.target;
  }

  /** Starts connecting and following the channel's connectivity. */
  start(): void {
    this.follow(this.member.inner);
  }

  /**
   * Points a member that is not READY at another address of its target: a fresh channel
   * there, at once. (A READY member is moved make-before-break by `AddressSpread` instead.)
   */
  moveTo(address: string): void {
    this.address = address;
    this.replaceChannel('address-moved');
  }

  /**
   * Takes the member out of rotation, waits up to `timeoutMs` for its calls in flight, then
   * cancels what is left with `reason` and closes the channel. Idempotent.
   */
  async drain(timeoutMs: number, reason: string): Promise<{ cancelled: number }> {
    this.stopped = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.wakeTimer);
    await this.slots.unregister(this);
    // Only now, out of the slot table: retired while the strategy could still pick it, a
    // member would hand its calls to the pool, which could pick it again, and again.
    this.member.retire(this.config.successor());
    const cancelled = await this.member.drain(timeoutMs, reason);
    closeChannel(this.member.inner);
    // Its calls have ended: no connection of it may outlive the drain (see `release`).
    await this.attempts.release(CLOSE_GRACE_MS);
    this.enter(State.SHUTDOWN);
    return { cancelled };
  }

  /**
   * Holds the member out of the slot table while its connection stays up (`out` set), or
   * lets it back in (`undefined`; it takes a slot again if READY). Health checking and
   * outlier ejection decide; the worker only keeps READY from slotting a member held out.
   */
  setOut(out: MemberOut | undefined): void {
    const wasOut = this.out !== undefined;
    this.out = out;
    if (this.stopped || wasOut === (out !== undefined)) {
      return;
    }
    if (out !== undefined) {
      void this.slots.unregister(this);
    } else if (this.state === State.READY) {
      void this.slots.register(this, this.member);
    }
  }

  /** Gives the member a fresh channel (its health probes kept failing on this one). */
  renewChannel(): void {
    this.replaceChannel('unhealthy');
  }

  private createChannel(): Channel {
    this.generation++;
    this.attempts = new ConnectionAttempts();
    const dial = this.address ?? this.config.target;
    return new Channel(dial, this.attempts.wrap(this.config.credentials), {
      ...this.config.channelOptions,
      ...(this.address !== undefined && this.config.addressArgs),
      // Distinct args per member and per generation: never share a connection.
      [MEMBER_ID_CHANNEL_ARG]: `${this.config.id}.${this.generation}`,
    });
  }

  private follow(channel: ChannelInterface): void {
    if (this.stopped || channel !== this.member.inner) {
      return;
    }
    const state = channel.getConnectivityState(false);
    this.enter(state);
    if (state === State.SHUTDOWN) {
      this.replaceChannel('channel-shutdown');
      return;
    }
    if (state === State.IDLE) {
      this.wake(channel);
    }
    channel.watchConnectivityState(state, Infinity, () => this.follow(channel));
  }

  /**
   * Wakes an IDLE channel, since a member must never sit IDLE unnoticed: at once, unless its
   * last connections each dropped soon after they were made (a server that accepts and
   * hangs up); then after a backoff like grpc-js's own, so it is not redialled in a loop.
   */
  private wake(channel: ChannelInterface): void {
    clearTimeout(this.wakeTimer);
    if (this.quickDrops === 0) {
      channel.getConnectivityState(true);
      return;
    }
    const { initialMs, maxMs } = reconnectBackoff(this.config.channelOptions);
    const delay = Math.min(initialMs * 1.6 ** (this.quickDrops - 1), maxMs);
    this.wakeTimer = setTimeout(
      () => {
        if (!this.stopped && channel === this.member.inner) {
          channel.getConnectivityState(true);
        }
      },
      delay * (0.8 + Math.random() * 0.4),
    ).unref();
  }

  private enter(state: State): void {
    const previous = this.state;
    if (state === previous) {
      return;
    }
    const now = Date.now();
    this.state = state;
    this.lastStateChange = now;
    clearTimeout(this.connectTimer);
    if (state === State.CONNECTING) {
      this.connectingSince = now;
      this.connectTimer = setTimeout(
        () => this.replaceChannel('connect-timeout'),
        this.config.connectTimeoutMs,
      ).unref();
    }
    if (state === State.READY) {
      this.readySince = now;
      // A new connection (a reconnect after a GOAWAY or a drop): the server's allowance is whole again.
      this.member.resetBudget?.refill();
      this.startedWhenReady = this.member.started;
      this.lastError = undefined;
      this.inOutage = false;
      // Readiness is published once the slot is taken (PoolStateService tells the pool),
      // so that whoever hears READY can pick this member at once.
      if (this.out === undefined && this.admitted) {
        void this.slots.register(this, this.member);
      }
      this.config.reporter.connected(now - this.connectingSince);
    } else if (previous === State.READY) {
      const upMs = now - (this.readySince ?? now);
      this.quickDrops = this.droppedEarly(upMs) ? this.quickDrops + 1 : 0;
      this.config.reporter.disconnected(upMs, State[state], this.stopped);
      this.readySince = undefined;
      this.disconnects++;
      void this.slots.unregister(this);
    }
    if (state === State.TRANSIENT_FAILURE) {
      this.recordLastError(this.member.inner);
      this.reconnecting('backoff');
    } else if (state === State.IDLE && !this.stopped && previous !== State.IDLE) {
      this.reconnecting('idle');
    }
    this.config.onStateChange();
  }

  /**
   * Whether a connection that just left READY looks like a server that accepts and hangs
   * up (redialled at once, it would loop): it lived less than the initial backoff, served
   * no call, and its socket was closed under it. A GOAWAY leaves the socket open for the
   * server's grace period, and a connection that served calls was a working one: both
   * reconnect at once, however short their life (short max ages are common: nginx
   * `keepalive_requests`, Envoy's max requests per connection).
   */
  private droppedEarly(upMs: number): boolean {
    const { initialMs } = reconnectBackoff(this.config.channelOptions);
    return (
      upMs < initialMs &&
      this.member.started === this.startedWhenReady &&
      !this.attempts.hasOpenConnection()
    );
  }

  /** Reports a reconnect once per outage (leaving READY until READY again), with its first reason. */
  private reconnecting(reason: MemberReconnectEvent['reason']): void {
    if (!this.inOutage && !this.stopped) {
      this.inOutage = true;
      this.config.reporter.reconnect(reason);
    }
  }

  /** For a channel shut down under us or stuck connecting: a fresh one, same target and args. */
  private replaceChannel(reason: ReplaceReason): void {
    if (this.stopped) {
      return;
    }
    this.reconnecting(reason);
    const old = this.member.inner;
    const oldAttempts = this.attempts;
    // Calls queued on the old channel end when it closes: those whose whole request is known
    // are re-issued on the new one (CountedCall.reissue); the rest are told why in the pool's words.
    this.member.closedChannelDetails = this.replacedDetails(reason);
    this.member.inner = this.createChannel();
    closeChannel(old);
    // grpc-js keeps a connection attempt open after close() until the server ends it.
    oldAttempts.abort();
    this.follow(this.member.inner);
  }

  /** Why calls still queued on a channel the worker replaces end, and what to do. */
  private replacedDetails(reason: ReplaceReason): string {
    const { pool, id, target, connectTimeoutMs } = this.config;
    const why =
      reason === 'connect-timeout'
        ? `was still connecting to ${target} after connectTimeoutMs (${connectTimeoutMs} ms)`
        : reason === 'address-moved'
          ? `could not connect to an address of ${target} and moved to another`
          : reason === 'unhealthy'
            ? `kept failing its health probes to ${target}`
            : `had its channel to ${target} shut down under it`;
    return (
      `gRPC pool "${pool}": member ${id} ${why}, so the pool replaced its channel; this ` +
      'call was still queued on the old channel and could not be re-issued on the new one ' +
      '(a client or bidi stream, or a call the pool had re-issued once already). Retry the ' +
      'call, or raise connectTimeoutMs if the server is slow to accept connections'
    );
  }

  private recordLastError(channel: ChannelInterface): void {
    readLastConnectionError(channel, this.config.connectTimeoutMs, (error) => {
      if (this.state === State.TRANSIENT_FAILURE && channel === this.member.inner) {
        this.lastError = error;
        this.config.reporter.connectionFailed(error);
      }
    });
  }
}

/** Why a worker gives its member a fresh channel. */
type ReplaceReason = 'connect-timeout' | 'channel-shutdown' | 'address-moved' | 'unhealthy';

/**
 * How long a drained member's connections get to close gracefully (GOAWAY, FIN both ways)
 * before the pool destroys them: many round trips on any network, so only a server that
 * stopped reading (or a dead path) reaches it.
 */
const CLOSE_GRACE_MS = 1_000;
