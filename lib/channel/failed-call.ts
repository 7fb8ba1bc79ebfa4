import { Metadata, type CallCredentials, type StatusObject } from '@grpc/grpc-js';
import type { Call, InterceptingListener } from '../member/grpc-types.js';

/**
 * A call that never reaches the network and ends with one status, as grpc-js reports a
 * call on a channel that cannot take it: asynchronously, through the listener.
 */
export class FailedCall implements Call {
  private ended = false;

  constructor(
    private readonly code: number,
    private readonly details: string,
  ) {}

  start(_metadata: Metadata, listener: InterceptingListener): void {
    process.nextTick(() => this.finish(listener, this.code, this.details));
  }

  private finish(listener: InterceptingListener, code: number, details: string): void {
    if (!this.ended) {
      this.ended = true;
      const status: StatusObject = { code, details, metadata: new Metadata() };
      listener.onReceiveStatus(status);
    }
  }

  cancelWithStatus(): void {}
  getPeer(): string {
    return '';
  }
  sendMessageWithContext(): void {}
  startRead(): void {}
  halfClose(): void {}
  getCallNumber(): number {
    return -1;
  }
  setCredentials(_credentials: CallCredentials): void {}
  getAuthContext(): null {
    return null;
  }
}
