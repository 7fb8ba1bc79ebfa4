import {
  Metadata,
  status as Status,
  type CallCredentials,
  type ChannelInterface as Channel,
  type Deadline,
  type StatusObject,
} from '@grpc/grpc-js';
import type {
  AuthContext,
  Call,
  InterceptingListener,
  MessageContext,
  ServerSurfaceCall,
} from './grpc-types.js';
import { callReach, type CallReach } from './call-reach.js';
import type { CallingMember } from './calling-member.js';

/** Re-picks per call (A6 allows any number when it never left the client; bound them). */
const MAX_REPICKS = 3;

/**
 * A call on a member, counted from `start` to its one final status. It stands in as the
 * listener of the call it wraps, so wrapping costs one object per call.
 *
 * The grpc-js call is made at `start`, not when the client asks for a call. An interceptor
 * may start a call late (an async auth token) or never, and grpc-js ends a call that was
 * cancelled, or whose deadline passed, before `start` without ever telling anyone: counted
 * from creation such a call would hold a count forever; made early, it could be dead before
 * it is counted. Made at `start`, every counted call is one grpc-js will report the end of:
 * a deadline already past ends it DEADLINE_EXCEEDED at once, as grpc-js does for any call
 * whose deadline has passed. A call cancelled before `start` is never made: its `start`
 * reports the cancel's status (on the next tick, as grpc-js reports statuses) and nothing
 * is counted.
 *
 * A call that ended before it reached any server (never left the client, or its stream
 * refused) is re-picked on another member (see `repick`); it keeps references to its
 * request for that, never copies.
 */
export class CountedCall implements Call, InterceptingListener {
  /** Neighbours in the member's list of live calls. */
  prev: CountedCall | undefined = undefined;
  next: CountedCall | undefined = undefined;
  private listener: InterceptingListener | undefined = undefined;
  private call: Call | undefined = undefined;
  private credentials: CallCredentials | undefined = undefined;
  /** `new` until `start`; `live` while counted; `ended` once out of the count (or never in). */
  private state: 'new' | 'live' | 'ended' = 'new';
  /** A cancel that came before `start`: reported by `start` instead of making the call. */
  private cancelled: StatusObject | undefined = undefined;
  /**
   * `performance.now()` at `start` while the member keeps a latency estimate and this call
   * has not answered yet; -1 otherwise (always, in pools that keep none: one branch).
   */
  private startedAt = -1;
  /*
   * The request as sent so far, by reference (no copy, no allocation), for `repick`:
   * the metadata of `start` (grpc-js clones it as a call starts, so it can be sent again),
   * the first message and its flags, how many messages, and what else the client asked for.
   */
  private metadata: Metadata | undefined = undefined;
  private firstMessage: Buffer | undefined = undefined;
  private firstContext: MessageContext | undefined = undefined;
  private sent = 0;
  private halfClosed = false;
  private reading = false;
  /** The member's grpc-js channel the call was made on. */
  private openedOn: Channel | undefined = undefined;
  /** Set once a server answered (metadata) or the client cancelled: never re-picked then. */
  private settled = false;
  /** Times this call was re-picked, and whether one of them went back to the same member. */
  private repicks = 0;
  private backOnSame = false;

  constructor(
    /** The member counting the call: the one that made it, or the one it was re-picked on. */
    private member: CallingMember,
    private readonly method: string,
    private readonly deadline: Deadline,
    private readonly host: string | null | undefined,
    private readonly parentCall: ServerSurfaceCall | null,
    private readonly propagateFlags: number | null | undefined,
  ) {}

  start(metadata: Metadata, listener: InterceptingListener): void {
    if (this.state !== 'new') {
      // Cancelled before start (or started twice): report the cancel, count nothing.
      const cancelled = this.cancelled;
      if (cancelled !== undefined) {
        this.cancelled = undefined;
        process.nextTick(() => listener.onReceiveStatus(cancelled));
      }
      return;
    }
    const successor = this.member.successor;
    if (successor !== undefined) {
      // The member left the pool after this call was made: the pool's channel takes it,
      // and the member it picks counts it.
      this.state = 'ended';
      this.open(successor).start(metadata, listener);
      return;
    }
    this.listener = listener;
    this.metadata = metadata;
    this.state = 'live';
    if (this.member.latency !== undefined) {
      this.startedAt = performance.now();
    }
    this.member.callStarted(this);
    try {
      const call = this.open();
      call.start(metadata, this);
    } catch (error) {
      this.end(Status.INTERNAL);
      throw error;
    }
  }

  /** Takes the call out of the count with its final status; only the first call has an effect. */
  end(code: number): void {
    if (this.state === 'live') {
      this.member.callEnded(this, code);
    }
    this.state = 'ended';
  }

  onReceiveMetadata(metadata: Metadata): void {
    // A server answered: it saw the call, so the call is never re-picked.
    this.settled = true;
    this.listener?.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: unknown): void {
    if (this.startedAt >= 0) {
      this.answered(false);
    }
    this.listener?.onReceiveMessage(message);
  }

  onReceiveStatus(status: StatusObject): void {
    // One compare on the normal path: only UNAVAILABLE can be a call that reached no server.
    let queuedOnClosed = false;
    if (status.code === Status.UNAVAILABLE && !this.settled && this.call !== undefined) {
      const reach = callReach(this.call);
      if (this.repick(reach)) {
        return;
      }
      queuedOnClosed = reach === 'unsent' && this.openedOn !== this.member.inner;
    }
    if (this.startedAt >= 0) {
      this.answered(status.code !== Status.OK);
    }
    this.end(status.code);
    this.listener?.onReceiveStatus(this.member.finalStatus(status, queuedOnClosed));
  }

  cancelWithStatus(status: number, details: string): void {
    // A cancel that crosses a status of a call that reached no server must end the call.
    this.settled = true;
    if (this.state === 'new') {
      this.state = 'ended';
      this.cancelled = { code: status, details, metadata: new Metadata() };
    }
    this.call?.cancelWithStatus(status, details);
  }

  getPeer(): string {
    return this.call?.getPeer() ?? this.member.getTarget();
  }

  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    if (this.sent++ === 0) {
      this.firstMessage = message;
      this.firstContext = context;
    }
    this.open().sendMessageWithContext(context, message);
  }

  startRead(): void {
    this.reading = true;
    this.open().startRead();
  }

  halfClose(): void {
    this.halfClosed = true;
    this.open().halfClose();
  }

  getCallNumber(): number {
    return this.call?.getCallNumber() ?? -1;
  }

  setCredentials(credentials: CallCredentials): void {
    if (this.call === undefined) {
      this.credentials = credentials;
    } else {
      this.call.setCredentials(credentials);
    }
  }

  getAuthContext(): AuthContext {
    return this.call?.getAuthContext?.() ?? null;
  }

  /**
   * The call's first answer (a response message, or the status when none came first): its
   * latency goes into the member's estimate. Later messages of a stream, and its end, do
   * not: a long stream says how long the conversation was, not how fast the backend is.
   */
  private answered(failed: boolean): void {
    const now = performance.now();
    this.member.latency?.observe(now - this.startedAt, now, failed);
    this.startedAt = -1;
  }

  /**
   * gRPC's transparent retry (A6) of a call that ended UNAVAILABLE before reaching a server:
   * `reach` (the HTTP/2 layer's word, see `callReach`; never a status text, which a server
   * may pass through) says no attempt had a stream, or each was refused unprocessed. Only a
   * call whose whole request is known goes again: at most one message, half-closed. The pool
   * names the member (`MemberChannel.repick`); the call goes there at once with its method,
   * original deadline (one already past keeps the failure), host, metadata, message and read
   * state, and stays one call counted once: it leaves the first member as if never started
   * there (`callMoved`), the new one counts it to its end. At most `MAX_REPICKS` times, and
   * back on the member that failed it once only: a member failing every call before it
   * leaves (a silent server) must not hold one to its deadline.
   */
  private repick(reach: CallReach): boolean {
    if (
      (reach !== 'unsent' && reach !== 'refused') ||
      this.state !== 'live' ||
      this.repicks >= MAX_REPICKS ||
      this.sent > 1 ||
      !this.halfClosed ||
      this.metadata === undefined ||
      +this.deadline <= Date.now() // Infinity (none) never is; read only here
    ) {
      return false;
    }
    const failed = this.member;
    const next = failed.repick?.(failed);
    if (next === undefined || next.successor !== undefined) {
      return false;
    }
    if (next === failed) {
      if (this.backOnSame) {
        return false;
      }
      this.backOnSame = true;
    }
    this.repicks++;
    if (next !== failed) {
      failed.callMoved(this);
      this.member = next;
      this.startedAt = next.latency === undefined ? -1 : performance.now();
      next.callStarted(this);
    }
    this.call = undefined;
    let call: Call;
    try {
      call = this.open();
    } catch {
      return false; // the member's channel is gone too: report the first failure
    }
    call.start(this.metadata, this);
    if (this.firstMessage !== undefined) {
      // Its flags only: the first call already told the writer its message went (the callback).
      const flags = this.firstContext?.flags;
      call.sendMessageWithContext(flags === undefined ? {} : { flags }, this.firstMessage);
    }
    call.halfClose();
    if (this.reading) {
      call.startRead();
    }
    return true;
  }

  /**
   * The call behind this one, made the first time it is needed: on the member's channel, or
   * on `successor` (the pool's channel) when the member left the pool before the call started.
   */
  private open(successor?: Pick<Channel, 'createCall'>): Call {
    if (this.call === undefined) {
      const { method, deadline, host, parentCall, propagateFlags } = this;
      if (successor === undefined) {
        this.openedOn = this.member.inner;
        this.call = this.member.openCall(method, deadline, host, parentCall, propagateFlags);
      } else {
        this.call = successor.createCall(method, deadline, host, parentCall, propagateFlags);
      }
      if (this.credentials !== undefined) {
        this.call.setCredentials(this.credentials);
      }
    }
    return this.call;
  }
}
