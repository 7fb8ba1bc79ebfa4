import type { AuthContext } from '@grpc/grpc-js/build/src/auth-context.js';
import {
  status as Status,
  type CallCredentials,
  type Metadata,
  type StatusObject,
} from '@grpc/grpc-js';
import type {
  Call,
  InterceptingListener,
  MessageContext,
} from '@grpc/grpc-js/build/src/call-interface.js';
import type { MemberChannel } from './member-channel.js';

/**
 * A call on a member, counted from `start` to its end. It stands in as the listener of the
 * call it wraps, so wrapping costs one object per call. Counting starts at `start`, not at
 * creation: a call an interceptor creates but never starts never reaches the network and
 * must not hold a count forever.
 */
export class CountedCall implements Call, InterceptingListener {
  /** Neighbours in the member's list of live calls. */
  prev: CountedCall | undefined = undefined;
  next: CountedCall | undefined = undefined;
  private listener: InterceptingListener | undefined = undefined;
  private state: 'new' | 'live' | 'ended' = 'new';

  constructor(
    private readonly member: MemberChannel,
    private readonly call: Call,
  ) {}

  start(metadata: Metadata, listener: InterceptingListener): void {
    this.listener = listener;
    this.state = 'live';
    this.member.callStarted(this);
    try {
      this.call.start(metadata, this);
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
    this.listener?.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: unknown): void {
    this.listener?.onReceiveMessage(message);
  }

  onReceiveStatus(status: StatusObject): void {
    this.end(status.code);
    this.listener?.onReceiveStatus(this.member.finalStatus(status));
  }

  cancelWithStatus(status: number, details: string): void {
    this.call.cancelWithStatus(status, details);
  }

  getPeer(): string {
    return this.call.getPeer();
  }

  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    this.call.sendMessageWithContext(context, message);
  }

  startRead(): void {
    this.call.startRead();
  }

  halfClose(): void {
    this.call.halfClose();
  }

  getCallNumber(): number {
    return this.call.getCallNumber();
  }

  setCredentials(credentials: CallCredentials): void {
    this.call.setCredentials(credentials);
  }

  getAuthContext(): AuthContext | null {
    return this.call.getAuthContext();
  }
}
