import * as grpc from '@grpc/grpc-js';
import { firstValueFrom, type Observable } from 'rxjs';
import {
  ECHO_PROTO,
  EchoClient,
  type EchoReply,
  type EchoRequest,
  type EchoServer,
} from '../support/echo-server.js';
import { startPoolApp } from '../support/pool-app.js';

/** How big one soak run is. */
export interface SoakSize {
  /** Calls made in total. */
  readonly calls: number;
  /** scaleUp(k) / scaleDown(k) cycles, run while the calls go on. */
  readonly cycles: number;
  /** Calls kept in flight at once. */
  readonly concurrency: number;
  /** Members the pool starts with and returns to. */
  readonly size: number;
}

/** The CI size and the full size the issue asks for. */
export const SOAK_SIZES = {
  reduced: { calls: 20_000, cycles: 200, concurrency: 64, size: 4 },
  full: { calls: 100_000, cycles: 1_000, concurrency: 64, size: 4 },
  /** Loads every module and lazy global and gets the call paths optimized before the baseline. */
  warmUp: { calls: 4_000, cycles: 40, concurrency: 64, size: 4 },
} as const satisfies Record<string, SoakSize>;

export interface SoakOutcome {
  readonly calls: number;
  readonly ok: number;
  /** Calls that failed as they asked to (server error, tight deadline, cancel). */
  readonly expectedFailures: number;
  /** Anything else: must be empty. */
  readonly unexpected: readonly string[];
  readonly cycles: number;
  /** Cycles that waited for the new members to be READY before scaling down. */
  readonly cyclesWaitedReady: number;
  /** When the last scale cycle ended, in ms from the start. */
  readonly cyclesDoneMs: number;
  readonly callsPerSecond: number;
  readonly durationMs: number;
  /** status() once every call settled and the last cycle ended, before close(). */
  readonly finalStatus: { size: number; ready: number; inFlight: number };
}

interface EchoService {
  unary(
    request: EchoRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): Observable<EchoReply>;
}

type UnaryClient = grpc.Client & {
  Unary(
    request: EchoRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, reply: EchoReply) => void,
  ): grpc.ClientUnaryCall;
};

/**
 * One soak run on its own Nest module: `calls` calls over every way in (a cached client on
 * `pool.channel`, a fresh client per call on `getChannel()`, Nest `getService()` stubs),
 * a tenth of them failing on purpose (server error, deadline, cancel), while `cycles`
 * scale-up / scale-down cycles run; then close(). No call may fail for any other reason.
 */
export async function runSoak(server: EchoServer, size: SoakSize): Promise<SoakOutcome> {
  const app = await startPoolApp({
    url: server.url,
    size: size.size,
    drainTimeoutMs: 5_000,
    package: 'echo',
    protoPath: ECHO_PROTO,
  });
  const { pool } = app;
  const started = Date.now();
  try {
    await pool.awaitReady(5_000);
    const cached = pool.getClient(EchoClient) as unknown as UnaryClient;
    const service = pool.getService<EchoService>('Echo');
    const unexpected: string[] = [];
    let ok = 0;
    let expectedFailures = 0;
    let next = 0;

    const call = (i: number): Promise<void> => {
      const kind = i % 20;
      const failCode = kind === 8 || kind === 18 ? grpc.status.ABORTED : 0;
      const expected =
        failCode !== 0
          ? grpc.status.ABORTED
          : kind === 9
            ? grpc.status.DEADLINE_EXCEEDED
            : kind === 19
              ? grpc.status.CANCELLED
              : grpc.status.OK;
      const request: EchoRequest = {
        message: String(i),
        failCode,
        delayMs: kind === 9 ? 30 : i % 3,
      };
      const options: grpc.CallOptions = {
        deadline: Date.now() + (kind === 9 ? 2 : 10_000),
      };
      const settle = (error: { code?: number; details?: string } | null) => {
        const code = error ? error.code : grpc.status.OK;
        if (code === grpc.status.OK && expected === grpc.status.OK) ok++;
        else if (code === expected) expectedFailures++;
        else if (unexpected.length < 20) {
          unexpected.push(
            `call ${i} (kind ${kind}, scale cycle ${cycleNow}, ${Date.now() - started} ms): ${code} ${error?.details}, want ${expected}`,
          );
        }
      };
      if (kind === 7 || kind === 17) {
        return firstValueFrom(service.unary(request, new grpc.Metadata(), options)).then(
          () => settle(null),
          settle,
        );
      }
      return new Promise<void>((resolve) => {
        const client =
          kind === 5 || kind === 15
            ? (new EchoClient('pool', grpc.credentials.createInsecure(), {
                channelOverride: pool.getChannel(),
              }) as unknown as UnaryClient)
            : cached;
        const unaryCall = client.Unary(request, new grpc.Metadata(), options, (error) => {
          settle(error);
          resolve();
        });
        if (kind === 19) {
          setImmediate(() => unaryCall.cancel());
        }
      });
    };

    const callLoop = async () => {
      while (next < size.calls) {
        await call(next++);
      }
    };

    let cyclesWaitedReady = 0;
    let cycleNow = -1;
    let cyclesDoneMs = 0;
    const scaleLoop = async () => {
      for (let cycle = 0; cycle < size.cycles; cycle++) {
        cycleNow = cycle;
        const k = 1 + (cycle % 3);
        await pool.scaleUp(k);
        if (cycle % 4 === 0) {
          await until(() => pool.status().ready === pool.status().size, 5_000);
          cyclesWaitedReady++;
        }
        await pool.scaleDown(k);
      }
      cyclesDoneMs = Date.now() - started;
    };

    await Promise.all([...Array.from({ length: size.concurrency }, callLoop), scaleLoop()]);
    const durationMs = Date.now() - started;
    const status = pool.status();
    return {
      calls: next,
      ok,
      expectedFailures,
      unexpected,
      cycles: size.cycles,
      cyclesWaitedReady,
      cyclesDoneMs,
      callsPerSecond: Math.round((next / durationMs) * 1000),
      durationMs,
      finalStatus: { size: status.size, ready: status.ready, inFlight: status.inFlight },
    };
  } finally {
    await app.close();
  }
}

/** Polls `condition` every millisecond; throws after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
