import type { ChannelInterface as Channel, Deadline, StatusObject } from '@grpc/grpc-js';
import type { Call, ServerSurfaceCall } from './grpc-types.js';
import type { PeakEwma } from './peak-ewma.js';

/**
 * What a counted call needs of the member it runs on (`MemberChannel` is the one kind): the
 * member counts it, opens its grpc-js call, and names another member to re-pick it on. Kept
 * apart so that a call and its member do not import each other.
 */
export interface CallingMember {
  /** The member's grpc-js channel now. */
  readonly inner: Channel;
  /** Its latency estimate, in pools that keep one. */
  readonly latency: PeakEwma | undefined;
  /** Where calls go once the member left the pool; `undefined` while it serves. */
  readonly successor: Channel | undefined;
  /** Another member for a call that reached no server through `failed`. */
  repick?(failed: CallingMember): CallingMember | undefined;
  callStarted(call: object): void;
  callEnded(call: object, code: number): void;
  /** The call leaves for another member, unanswered: out of this one's count. */
  callMoved(call: object): void;
  finalStatus(status: StatusObject, queuedOnClosed: boolean): StatusObject;
  openCall(
    method: string,
    deadline: Deadline,
    host: string | null | undefined,
    parentCall: ServerSurfaceCall | null,
    propagateFlags: number | null | undefined,
  ): Call;
  getTarget(): string;
}
