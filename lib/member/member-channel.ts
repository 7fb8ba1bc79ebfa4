import {
  status as Status,
  type ChannelInterface as Channel,
  type connectivityState as ConnectivityState,
  type Deadline,
  type StatusObject,
} from '@grpc/grpc-js';
import type { Call, ChannelRef, ServerSurfaceCall } from './grpc-types.js';
import type { PoolMemberLoad } from '../interfaces/pool-strategy.interface.js';
import { CountedCall } from './counted-call.js';
import type { ResetBudget } from './reset-budget.js';
import type { PeakEwma } from './peak-ewma.js';

/**
 * One pool member as a grpc-js `Channel`: every call created on it is counted in
 * `inFlight` from start to its one final status, whatever client or stub made it.
 *
 * `close()` is a no-op: grpc-js clients close their channel in `client.close()` (and Nest's
 * `ClientGrpcProxy.close()` does so), but the pool's lifecycle owns its members.
 */
export class MemberChannel implements Channel, PoolMemberLoad {
  /** Calls started on this member that have not ended. Read by the strategies. */
  inFlight = 0;
  /** Calls started on this member since it was made. */
  started = 0;
  /** Calls ended, by gRPC status code (index 0 is OK). */
  readonly endedByStatus: number[] = new Array<number>(17).fill(0);
  /** Calls in a row that ended UNAVAILABLE, INTERNAL or UNKNOWN; any other end resets it. */
  failureStreak = 0;
  /** `failureStreak` at which {@link onFailureStreak} is told; 0 (outlier ejection off): never. */
  streakLimit = 0;
  /** Outlier ejection's hook, told once when the streak reaches `streakLimit`. */
  onFailureStreak: (() => void) | undefined = undefined;
  /** Head of the intrusive list of live calls (no allocation to add or remove one). */
  private head: CountedCall | undefined = undefined;
  private idleWaiters: Array<() => void> | undefined = undefined;
  /** Set once the pool took this member away: where calls made on it go from then on. */
  private retiredTo: Channel | undefined = undefined;
  /**
   * What a call queued on a channel of this member that the pool closed is told instead of
   * grpc-js's bare "Channel closed before call started" (when it could not be re-picked:
   * see `CountedCall.repick`); set by its connection before it closes one.
   */
  closedChannelDetails: string | undefined = undefined;
  /**
   * Asks the pool for the member a call that never reached a server should go to instead
   * of `failed` (gRPC A6 transparent retry, see `CountedCall.repick`): another serving
   * member when there is one, else the member likeliest to connect (which may be `failed`
   * itself, on a fresh channel); `undefined`: none, the call keeps its failure. Set by the
   * pool when it makes the member; unset, calls are never re-picked.
   */
  repick: ((failed: MemberChannel) => MemberChannel | undefined) | undefined = undefined;
  /**
   * Calls in flight at which {@link callStarted} tells `onBusy` (the autoscaler). Infinity
   * while autoscaling is off, so the check costs one compare that never holds.
   */
  private busyMark = Infinity;
  private onBusy: (member: MemberChannel) => void = () => {};
  /**
   * The server's rapid-reset allowance for this member's connection, mirrored (see
   * `ResetBudget`); `undefined` with `resetBudget: false`.
   */
  resetBudget: ResetBudget | undefined = undefined;

  constructor(
    /** The grpc-js channel calls go to; its connection replaces it with a fresh one. */
    public inner: Channel,
    /** Deadline (ms from the call's creation) for a call that sets none; 0: off. */
    private readonly defaultDeadlineMs = 0,
    /**
     * The member's latency estimate, only in pools whose strategy reads it (`peak-ewma`):
     * its calls then read the clock at start and first answer. Elsewhere `undefined`, and
     * a call pays one branch for it.
     */
    readonly latency: PeakEwma | undefined = undefined,
  ) {}

  /** Peak-EWMA latency of this member's calls in ms; 0 until measured, or when not kept. */
  get latencyMs(): number {
    return this.latency === undefined ? 0 : this.latency.cost;
  }

  createCall(
    method: string,
    deadline: Deadline,
    host: string | null | undefined,
    parentCall: ServerSurfaceCall | null,
    propagateFlags: number | null | undefined,
  ): Call {
    // A client may hold a member the pool has since taken away (scale-down, shutdown):
    // its calls go to the pool, which picks a live member or fails them with UNAVAILABLE.
    if (this.retiredTo !== undefined) {
      return this.retiredTo.createCall(method, deadline, host, parentCall, propagateFlags);
    }
    // One branch when off. Infinity is how grpc-js clients say "no deadline".
    if (this.defaultDeadlineMs !== 0 && deadline === Infinity) {
      deadline = Date.now() + this.defaultDeadlineMs;
    }
    return new CountedCall(this, method, deadline, host, parentCall, propagateFlags);
  }

  /** Makes the grpc-js call behind a counted call, when the call starts. */
  openCall(
    method: string,
    deadline: Deadline,
    host: string | null | undefined,
    parentCall: ServerSurfaceCall | null,
    propagateFlags: number | null | undefined,
  ): Call {
    return this.inner.createCall(method, deadline, host, parentCall, propagateFlags);
  }

  /** Where calls go once the pool took this member away; `undefined` while it serves. */
  get successor(): Channel | undefined {
    return this.retiredTo;
  }

  getTarget(): string {
    return this.inner.getTarget();
  }

  getConnectivityState(tryToConnect: boolean): ConnectivityState {
    return this.inner.getConnectivityState(tryToConnect);
  }

  watchConnectivityState(
    currentState: ConnectivityState,
    deadline: Date | number,
    callback: (error?: Error) => void,
  ): void {
    this.inner.watchConnectivityState(currentState, deadline, callback);
  }

  getChannelzRef(): ChannelRef {
    return this.inner.getChannelzRef();
  }

  /** A no-op: the pool closes its members (see the class comment). */
  close(): void {}

  /** Called by a call when it starts. */
  callStarted(call: CountedCall): void {
    this.inFlight++;
    this.started++;
    call.next = this.head;
    if (this.head) {
      this.head.prev = call;
    }
    this.head = call;
    // O(1), where the call is already counted: the autoscaler decides off this path.
    if (this.inFlight >= this.busyMark) {
      this.onBusy(this);
    }
  }

  /** Tells `onBusy` whenever a call starts with `mark` or more calls in flight here. */
  watchBusy(mark: number, onBusy: (member: MemberChannel) => void): void {
    this.busyMark = mark;
    this.onBusy = onBusy;
  }

  /**
   * Called by a call that leaves this member unanswered for another one (see
   * `CountedCall.repick`): out of the count as if it had never started here, with no status,
   * so that the member that answers it counts it once, start to end, and the pool's sums of
   * calls started and ended stay those of the calls its users made.
   */
  callMoved(call: CountedCall): void {
    this.started--;
    this.uncount(call);
  }

  /** Called by a call exactly once, when it ends; `code` is its gRPC status. */
  callEnded(call: CountedCall, code: number): void {
    // Codes above 16 are not gRPC's; count them as UNKNOWN (2).
    const index = code >= 0 && code <= 16 ? code : 2;
    this.endedByStatus[index]++;
    // UNAVAILABLE, INTERNAL, UNKNOWN: what a sick backend answers (outlier ejection). O(1).
    if (index === 14 || index === 13 || index === 2) {
      if (++this.failureStreak === this.streakLimit) {
        this.onFailureStreak?.();
      }
    } else {
      this.failureStreak = 0;
    }
    // CANCELLED, DEADLINE_EXCEEDED: the client ended the call early, one RST_STREAM. O(1).
    if ((index === 1 || index === 4) && this.resetBudget !== undefined) {
      this.resetBudget.spend();
    }
    this.uncount(call);
  }

  /** Takes `call` out of the calls in flight and the list of live calls. */
  private uncount(call: CountedCall): void {
    if (--this.inFlight === 0 && this.idleWaiters) {
      this.wakeIdleWaiters();
    }
    if (call.prev) {
      call.prev.next = call.next;
    } else {
      this.head = call.next;
    }
    if (call.next) {
      call.next.prev = call.prev;
    }
    call.prev = call.next = undefined;
  }

  /**
   * `status` as the caller sees it: a call that never left the client, queued on a channel
   * of this member that the pool has since closed (`queuedOnClosed`, decided by the call
   * from the protocol), is told the pool's words (pool, target, why) instead of grpc-js's
   * bare ones. Runs once per call, at its end; it allocates only in that rare case.
   */
  finalStatus(status: StatusObject, queuedOnClosed: boolean): StatusObject {
    return queuedOnClosed && this.closedChannelDetails !== undefined
      ? { ...status, details: this.closedChannelDetails }
      : status;
  }

  /**
   * Takes the member out of service: calls made on it from now on go to `successor` (the
   * pool's channel); calls already in flight finish here.
   */
  retire(successor: Channel): void {
    this.retiredTo = successor;
  }

  /** Resolves once no call is in flight on this member. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => (this.idleWaiters ??= []).push(resolve));
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters ?? [];
    this.idleWaiters = undefined;
    for (const resolve of waiters) {
      resolve();
    }
  }

  /**
   * Waits up to `timeoutMs` for the calls in flight to end, then cancels what is left
   * with `reason` (status CANCELLED). Resolves with how many calls were cancelled. The
   * caller closes the inner channel.
   */
  async drain(timeoutMs: number, reason: string): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.whenIdle().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false))),
    ]);
    clearTimeout(timer);
    if (finished) {
      return 0;
    }
    const cancelled = this.inFlight;
    this.cancelAll(Status.CANCELLED, reason);
    return cancelled;
  }

  /** Cancels every call still in flight with `details` (status CANCELLED). */
  cancelAll(code: number, details: string): void {
    for (let call = this.head; call; call = this.head) {
      call.cancelWithStatus(code, details);
      if (call === this.head) {
        // The inner call did not report a status synchronously; count it ended now.
        call.end(code);
      }
    }
  }
}
