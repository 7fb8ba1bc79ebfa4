import type { LoggerService } from '@nestjs/common';
import { publish, type MemberReconnectEvent } from '../telemetry/pool-events.js';

/**
 * Tells the outside what happens to one member: a log line through Nest's logger (pool
 * name as context) and a diagnostics_channel event. Only connection changes are reported;
 * calls never are. No credentials are known here, so none can leak.
 */
export class MemberReporter {
  private failuresSinceReady = 0;

  constructor(
    private readonly pool: string,
    private readonly memberId: number,
    private readonly target: string,
    private readonly logger: LoggerService,
  ) {}

  connected(connectMs: number): void {
    this.failuresSinceReady = 0;
    this.logger.log(`member ${this.memberId} connected to ${this.target} in ${connectMs} ms`);
    publish('memberConnected', () => ({ ...this.base(), connectMs }));
  }

  connectionFailed(error: string): void {
    // The first failure in a row is news; the rest are grpc-js's backoff repeating it.
    const level = this.failuresSinceReady++ === 0 ? 'warn' : 'debug';
    this.logger[level]?.(`member ${this.memberId} could not connect to ${this.target}: ${error}`);
    publish('memberConnectionFailed', () => ({ ...this.base(), error }));
  }

  /** `closed`: the pool took the member away (scale-down, shutdown), nothing went wrong. */
  disconnected(upMs: number, reason: string, closed: boolean): void {
    if (closed) {
      this.logger.log(`member ${this.memberId} to ${this.target} closed after ${upMs} ms`);
    } else {
      this.logger.warn(
        `member ${this.memberId} lost its connection to ${this.target} after ${upMs} ms (${reason})`,
      );
    }
    publish('memberDisconnected', () => ({ ...this.base(), upMs, reason }));
  }

  reconnect(reason: MemberReconnectEvent['reason']): void {
    this.logger.debug?.(`member ${this.memberId} reconnects to ${this.target} (${reason})`);
    publish('memberReconnect', () => ({ ...this.base(), reason }));
  }

  private base() {
    return { pool: this.pool, memberId: this.memberId, target: this.target };
  }
}
