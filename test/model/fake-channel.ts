import {
  connectivityState as State,
  Metadata,
  status as Status,
  type CallCredentials,
  type ChannelInterface,
} from '@grpc/grpc-js';
import type { Call, ChannelRef, InterceptingListener } from '../../lib/member/grpc-types.js';
import { MemberChannel } from '../../lib/member/member-channel.js';

/**
 * How a fake call reports its status after `cancelWithStatus`: at once, after a microtask,
 * after a macrotask (as a call on a connection may), or as grpc-js 1.14's `ResolvingCall`
 * does: on `process.nextTick`, to whatever listener is set by then, so a call cancelled
 * before `start` reports nothing unless it is started in the same tick.
 */
export type CancelReport = 'sync' | 'microtask' | 'macrotask' | 'grpc-js';

/**
 * A grpc-js call that never touches the network: the test decides when and how it ends.
 * Used under a real `MemberChannel` so the pool's own counting code runs unchanged.
 */
export class FakeCall implements Call {
  private listener: InterceptingListener | undefined;
  /** Statuses delivered to the listener (a well-behaved call delivers exactly one). */
  delivered = 0;
  private ended = false;

  constructor(
    private readonly cancelReport: CancelReport,
    private readonly failStart: boolean,
    deadline: number,
  ) {
    if (deadline <= Date.now()) {
      // grpc-js ends a call whose deadline has passed on the next tick, started or not.
      this.ended = true;
      process.nextTick(() => this.report(Status.DEADLINE_EXCEEDED, 'Deadline exceeded'));
    }
  }

  start(_metadata: Metadata, listener: InterceptingListener): void {
    if (this.failStart) {
      throw new Error('fake call failed to start');
    }
    this.listener = listener;
  }

  private report(code: Status, details: string): void {
    if (this.listener !== undefined) {
      this.delivered++;
      this.listener.onReceiveStatus({ code, details, metadata: new Metadata() });
    }
  }

  /** Ends the call with `code`, as the transport would. */
  finish(code: Status, details = Status[code]): void {
    this.delivered++;
    this.listener?.onReceiveStatus({ code, details, metadata: new Metadata() });
  }

  cancelWithStatus(code: Status, details: string): void {
    if (this.cancelReport === 'sync') {
      this.finish(code, details);
    } else if (this.cancelReport === 'grpc-js') {
      if (!this.ended) {
        this.ended = true;
        process.nextTick(() => this.report(code, details));
      }
    } else if (this.cancelReport === 'microtask') {
      queueMicrotask(() => this.finish(code, details));
    } else {
      setImmediate(() => this.finish(code, details));
    }
  }

  getPeer(): string {
    return 'fake';
  }
  sendMessageWithContext(): void {}
  startRead(): void {}
  halfClose(): void {}
  getCallNumber(): number {
    return 0;
  }
  setCredentials(_credentials: CallCredentials): void {}
  getAuthContext(): null {
    return null;
  }
}

/** A grpc-js channel whose calls are {@link FakeCall}s made to the next order given. */
export class FakeChannel implements ChannelInterface {
  /** How the next call made on this channel behaves. */
  next: { cancelReport: CancelReport; failStart: boolean } = {
    cancelReport: 'sync',
    failStart: false,
  };
  /** The calls made on this channel, last one last. */
  readonly calls: FakeCall[] = [];

  createCall(_method: string, deadline: Date | number): Call {
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    const call = new FakeCall(this.next.cancelReport, this.next.failStart, deadlineMs);
    this.calls.push(call);
    return call;
  }

  getTarget(): string {
    return 'fake:///member';
  }

  getConnectivityState(): State {
    return State.READY;
  }

  watchConnectivityState(): void {}

  getChannelzRef(): ChannelRef {
    return { kind: 'channel', id: -1, name: 'fake' } as ChannelRef;
  }

  close(): void {}
}

/** A real pool member (counting included) over a {@link FakeChannel}. */
export function fakeMember(): { member: MemberChannel; channel: FakeChannel } {
  const channel = new FakeChannel();
  return { member: new MemberChannel(channel), channel };
}

/** Lets queued microtasks and one round of macrotasks (fake late cancels) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
