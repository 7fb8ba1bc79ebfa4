import {
  Channel,
  connectivityState as State,
  type ChannelCredentials,
  type ChannelInterface,
  type ChannelOptions,
} from '@grpc/grpc-js';
import { MEMBER_ID_CHANNEL_ARG } from '../grpc-pool.constants.js';
import type { MemberReconnectEvent } from '../telemetry/pool-events.js';
import { ConnectionAttempts } from './connection-attempts.js';
import { closeChannel, readLastConnectionError, reconnectBackoff } from './grpc-channel.js';
import type { MemberChannel } from './member-channel.js';
import type { MemberReporter } from './member-reporter.js';

/** What a member's connection needs to dial and to word its statuses. */
export interface MemberConnectionConfig {
  /** The pool's name, for the statuses the connection words. */
  readonly pool: string;
  readonly id: number;
  readonly target: string;
  /**
   * With address spreading: the literal address (`ipv4:…`/`ipv6:…`) the member dials
   * instead of `target`, and the channel args that keep `target`'s name as authority and TLS
   * server name there. Without: the member dials `target` and grpc-js resolves it.
   */
  readonly address?: string;
  readonly addressArgs?: Readonly<ChannelOptions>;
  readonly credentials: ChannelCredentials;
  readonly channelOptions: Readonly<ChannelOptions>;
  /** A channel CONNECTING this long is replaced by a fresh one. */
  readonly connectTimeoutMs: number;
  /** Logs and publishes the member's connection changes. */
  readonly reporter: MemberReporter;
}

/** The member a connection serves: told of every connectivity change. */
export interface ConnectionOwner {
  /** The member's channel face; its `inner` is the grpc-js channel this connection keeps. */
  readonly channel: MemberChannel;
  /** Whether the member is leaving (draining or closed): a leaving member is not redialled. */
  readonly leaving: boolean;
  connectivityChanged(state: State, previous: State): void;
}

/** Why a member's channel is replaced by a fresh one. */
export type RedialReason = 'connect-timeout' | 'channel-shutdown' | 'address-moved' | 'unhealthy';

/**
 * One member's grpc-js channel (its own TCP connection) and its connectivity. Reconnecting
 * is grpc-js's job (its backoff takes the pool's `backoff` options); the connection steps in
 * only where grpc-js would not: it wakes an IDLE channel, and it replaces a channel that was
 * shut down under it or sat CONNECTING past `connectTimeoutMs`.
 */
export class MemberConnection {
  /** Connectivity of the channel as last seen. */
  state: State = State.IDLE;
  /** What the last failed connection attempt said, while not READY. */
  lastError: string | undefined = undefined;
  /** When the channel last became READY (ms since epoch), or undefined while it is not. */
  readySince: number | undefined = undefined;
  /** Channels made for this member; 1 unless one had to be replaced. */
  generation = 0;
  /** When the connectivity last changed (ms since epoch). */
  lastStateChange = Date.now();
  /** Times the member went from READY to not READY. */
  disconnects = 0;
  /** The literal address dialled, when the pool spreads the target. */
  address: string | undefined;
  private connectingSince = Date.now();
  private connectTimer: NodeJS.Timeout | undefined = undefined;
  private wakeTimer: NodeJS.Timeout | undefined = undefined;
  /** Connections in a row that looked like a server hanging up (see `droppedEarly`). */
  private quickDrops = 0;
  /** `channel.started` when the member last became READY: did the connection serve calls? */
  private startedWhenReady = 0;
  /** Between leaving READY (or a first failed connect) and the next READY: one reconnect. */
  private inOutage = false;
  /** The sockets of the current channel, which grpc-js alone would not release. */
  private attempts = new ConnectionAttempts();
  private closed = false;

  constructor(
    readonly config: MemberConnectionConfig,
    private readonly owner: ConnectionOwner,
  ) {
    this.address = config.address;
  }

  /** Makes a grpc-js channel for the member (distinct args: never a shared connection). */
  open(): Channel {
    this.generation++;
    this.attempts = new ConnectionAttempts();
    return new Channel(
      this.address ?? this.config.target,
      this.attempts.wrap(this.config.credentials),
      {
        ...this.config.channelOptions,
        ...(this.address !== undefined && this.config.addressArgs),
        [MEMBER_ID_CHANNEL_ARG]: `${this.config.id}.${this.generation}`,
      },
    );
  }

  /** Starts connecting and following the channel's connectivity. */
  start(): void {
    this.follow(this.owner.channel.inner);
  }

  /**
   * A fresh channel (on `address`, when given), at once: for a channel stuck connecting or
   * shut down under the member, failed health probes, or a move to another address.
   */
  redial(reason: RedialReason, address?: string): void {
    if (this.closed) {
      return;
    }
    if (address !== undefined) {
      this.address = address;
    }
    this.reconnecting(reason);
    const face = this.owner.channel;
    const old = face.inner;
    const oldAttempts = this.attempts;
    // Calls queued on the old channel end when it closes; they are re-picked (CountedCall)
    // or told why in the pool's words.
    face.closedChannelDetails = this.replacedDetails(reason);
    face.inner = this.open();
    closeChannel(old);
    // grpc-js keeps a connection attempt open after close() until the server ends it.
    oldAttempts.abort();
    this.follow(face.inner);
  }

  /**
   * The member is leaving: its connectivity is followed no more, nothing is redialled, woken
   * or timed, while its calls in flight finish on the channel as it is.
   */
  stop(): void {
    this.closed = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.wakeTimer);
  }

  /**
   * Closes the channel for good once the member's calls ended, and releases every socket of
   * it within `graceMs`.
   */
  async close(graceMs: number): Promise<void> {
    this.stop();
    const channel = this.owner.channel.inner;
    closeChannel(channel);
    await this.attempts.release(graceMs);
    // Once more, after the sockets went: grpc-js (1.14) can still build a load balancer and a
    // subchannel for a channel closed just after it started resolving, and such a subchannel
    // keeps backing off and redialling (each socket destroyed by the attempts above) for the
    // life of the process. Closing again destroys whatever came late; on a channel that is
    // shut down for good it does nothing.
    channel.close();
    this.enter(State.SHUTDOWN);
  }

  /** Whether the newest connection's socket is open (a GOAWAY leaves it open for its grace). */
  hasOpenConnection(): boolean {
    return this.attempts.hasOpenConnection();
  }

  private follow(channel: ChannelInterface): void {
    if (this.closed || channel !== this.owner.channel.inner) {
      return;
    }
    const state = channel.getConnectivityState(false);
    this.enter(state);
    if (state === State.SHUTDOWN) {
      this.redial('channel-shutdown');
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
        if (!this.closed && channel === this.owner.channel.inner) {
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
        () => this.redial('connect-timeout'),
        this.config.connectTimeoutMs,
      ).unref();
    }
    const face = this.owner.channel;
    if (state === State.READY) {
      this.readySince = now;
      // A new connection: the server's rapid-reset allowance is whole again.
      face.resetBudget?.refill();
      this.startedWhenReady = face.started;
      this.lastError = undefined;
      this.inOutage = false;
      this.config.reporter.connected(now - this.connectingSince);
    } else if (previous === State.READY) {
      const upMs = now - (this.readySince ?? now);
      this.quickDrops = this.droppedEarly(upMs) ? this.quickDrops + 1 : 0;
      this.config.reporter.disconnected(upMs, State[state], this.owner.leaving);
      this.readySince = undefined;
      this.disconnects++;
    }
    if (state === State.TRANSIENT_FAILURE) {
      this.recordLastError(face.inner);
      this.reconnecting('backoff');
    } else if (state === State.IDLE && previous !== State.IDLE) {
      this.reconnecting('idle');
    }
    this.owner.connectivityChanged(state, previous);
  }

  /**
   * Whether a connection that just left READY looks like a server that accepts and hangs
   * up (redialled at once, it would loop): it lived less than the initial backoff, served
   * no call, and its socket was closed under it. A GOAWAY leaves the socket open for the
   * server's grace period, and a connection that served calls was a working one: both
   * reconnect at once, however short their life (short max ages are common).
   */
  private droppedEarly(upMs: number): boolean {
    const { initialMs } = reconnectBackoff(this.config.channelOptions);
    return (
      upMs < initialMs &&
      this.owner.channel.started === this.startedWhenReady &&
      !this.attempts.hasOpenConnection()
    );
  }

  /** Reports a reconnect once per outage (leaving READY until READY again), with its first reason. */
  private reconnecting(reason: MemberReconnectEvent['reason']): void {
    if (!this.inOutage && !this.owner.leaving) {
      this.inOutage = true;
      this.config.reporter.reconnect(reason);
    }
  }

  /** Why calls still queued on a channel the member replaces end, and what to do. */
  private replacedDetails(reason: RedialReason): string {
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
      if (this.state === State.TRANSIENT_FAILURE && channel === this.owner.channel.inner) {
        this.lastError = error;
        this.config.reporter.connectionFailed(error);
      }
    });
  }
}
