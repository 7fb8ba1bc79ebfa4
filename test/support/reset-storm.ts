import * as grpc from '@grpc/grpc-js';
import { EchoClient, type EchoRequest } from './echo-server.js';

/** What a reset storm did to the calls that should have succeeded. */
export interface ResetStormResult {
  /** Calls sent to expire (deadline shorter than the handler). */
  readonly expiring: number;
  /** Calls that should succeed, and how many did not, with their first few failures. */
  readonly good: number;
  readonly goodFailed: number;
  readonly failures: readonly string[];
}

export interface ResetStormOptions {
  /** Calls per second that end by deadline (each one RST_STREAM on its connection). */
  readonly expiringPerSecond: number;
  /** Calls per second that should succeed. */
  readonly goodPerSecond: number;
  readonly durationMs: number;
  /** Stops sending early once this returns true (checked every tick). */
  readonly stopWhen?: () => boolean;
}

/**
 * Sends `expiringPerSecond` calls that end by their deadline (the client resets each
 * stream) and `goodPerSecond` calls that should succeed, through `channel`, for
 * `durationMs`, paced on a timer; bounded in count and time. Resolves once every call ended.
 */
export async function resetStorm(
  channel: grpc.ChannelInterface,
  { expiringPerSecond, goodPerSecond, durationMs, stopWhen }: ResetStormOptions,
): Promise<ResetStormResult> {
  const client = new EchoClient('storm', grpc.credentials.createInsecure(), {
    channelOverride: channel,
  });
  const calls: Array<Promise<void>> = [];
  let expiring = 0;
  let good = 0;
  let goodFailed = 0;
  const failures: string[] = [];
  const call = (
    request: EchoRequest,
    timeoutMs: number,
    onEnd: (error: grpc.ServiceError | null) => void,
  ) =>
    calls.push(
      new Promise((resolve) =>
        client.Unary(
          request,
          new grpc.Metadata(),
          { deadline: Date.now() + timeoutMs },
          (error: grpc.ServiceError | null) => {
            onEnd(error);
            resolve();
          },
        ),
      ),
    );
  const started = Date.now();
  const tickMs = 20;
  let sentExpiring = 0;
  let sentGood = 0;
  while (Date.now() - started < durationMs && stopWhen?.() !== true) {
    const elapsed = Date.now() - started;
    for (; sentExpiring < (elapsed * expiringPerSecond) / 1000; sentExpiring++) {
      expiring++;
      call({ message: 'expire', delayMs: 1_000 }, 20, () => {});
    }
    for (; sentGood < (elapsed * goodPerSecond) / 1000; sentGood++) {
      good++;
      call({ message: 'good', delayMs: 200 }, 10_000, (error) => {
        if (error !== null) {
          goodFailed++;
          if (failures.length < 5) failures.push(`${grpc.status[error.code]}: ${error.details}`);
        }
      });
    }
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  await Promise.all(calls);
  client.close();
  return { expiring, good, goodFailed, failures };
}
