import * as grpc from '@grpc/grpc-js';
import { EchoClient, type EchoReply, type EchoRequest } from '../support/echo-server.js';

/** How one call ended, and when: a fault test asserts on outcomes, never on a thrown error. */
export interface CallOutcome {
  readonly ok: boolean;
  /** gRPC status code (0 when ok). */
  readonly code: number;
  readonly details: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** When the call's deadline was. */
  readonly deadline: number;
  /** The connection the call went over as the server saw it (ok calls only). */
  readonly peer: string | undefined;
}

/** Milliseconds a call ran past its deadline (negative: it ended before). */
export function lateness(outcome: CallOutcome): number {
  return outcome.endedAt - outcome.deadline;
}

/** A short line per failed call, so a failing assertion shows what happened. */
export function describeFailures(outcomes: readonly CallOutcome[]): string[] {
  return outcomes
    .filter((outcome) => !outcome.ok)
    .map((outcome) => `${grpc.status[outcome.code]}: ${outcome.details}`);
}

export interface CallSettings {
  /** The call's deadline, from its start. */
  timeoutMs: number;
  /** Ask grpc-js to wait for a ready connection instead of failing fast. */
  waitForReady?: boolean;
}

/** One unary Echo call on `channel` that resolves with its outcome and never rejects. */
export function echoCall(
  channel: grpc.ChannelInterface,
  request: EchoRequest,
  { timeoutMs, waitForReady = false }: CallSettings,
): Promise<CallOutcome> {
  const client = new EchoClient('pool', grpc.credentials.createInsecure(), {
    channelOverride: channel,
  });
  const startedAt = Date.now();
  const deadline = startedAt + timeoutMs;
  const metadata = new grpc.Metadata({ waitForReady });
  return new Promise((resolve) =>
    client.Unary(
      request,
      metadata,
      { deadline },
      (error: grpc.ServiceError | null, reply?: EchoReply) =>
        resolve({
          ok: !error,
          code: error?.code ?? grpc.status.OK,
          details: error?.details ?? '',
          startedAt,
          endedAt: Date.now(),
          deadline,
          peer: reply?.peer,
        }),
    ),
  );
}

/**
 * Keeps `concurrency` unary calls in flight on `channel()` until stopped, each loop at most
 * `maxCallsPerLoop` calls, and keeps every outcome.
 */
export class SteadyLoad {
  readonly outcomes: CallOutcome[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(
    channel: () => grpc.ChannelInterface,
    concurrency: number,
    request: EchoRequest,
    settings: CallSettings,
    maxCallsPerLoop = 10_000,
  ) {
    const loop = async () => {
      for (let i = 0; this.running && i < maxCallsPerLoop; i++) {
        this.outcomes.push(await echoCall(channel(), request, settings));
      }
    };
    this.loops = Array.from({ length: concurrency }, loop);
  }

  get ok(): number {
    return this.outcomes.filter((outcome) => outcome.ok).length;
  }

  get failures(): CallOutcome[] {
    return this.outcomes.filter((outcome) => !outcome.ok);
  }

  /** Stops starting calls; resolves when every loop's last call has ended. */
  async stop(): Promise<this> {
    this.running = false;
    await Promise.all(this.loops);
    return this;
  }
}

/**
 * `n` unary Echo calls started at once on one client over `channel` (one client, so that
 * starting a thousand calls costs little); resolves with every outcome.
 */
export function echoBurst(
  channel: grpc.ChannelInterface,
  n: number,
  request: EchoRequest,
  { timeoutMs }: CallSettings,
): Promise<CallOutcome[]> {
  const client = new EchoClient('pool', grpc.credentials.createInsecure(), {
    channelOverride: channel,
  });
  const startedAt = Date.now();
  const deadline = startedAt + timeoutMs;
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<CallOutcome>((resolve) =>
          client.Unary(
            request,
            { deadline },
            (error: grpc.ServiceError | null, reply?: EchoReply) =>
              resolve({
                ok: !error,
                code: error?.code ?? grpc.status.OK,
                details: error?.details ?? '',
                startedAt,
                endedAt: Date.now(),
                deadline,
                peer: reply?.peer,
              }),
          ),
        ),
    ),
  );
}

/** An endless server stream (count 0) and what became of it. */
export interface OpenStream {
  /** Messages received so far. */
  readonly received: () => number;
  /** The connection it runs over, as the server saw it (after the first message). */
  readonly peer: () => string | undefined;
  /** Resolves with the stream's final status. */
  readonly ended: Promise<{ code: number; details: string; at: number }>;
}

/** Opens an endless ServerStream (one reply every `everyMs`) on `channel`. */
export function openEndlessStream(channel: grpc.ChannelInterface, everyMs = 20): OpenStream {
  const client = new EchoClient('pool', grpc.credentials.createInsecure(), {
    channelOverride: channel,
  });
  const call = client.ServerStream({
    count: 0,
    delayMs: everyMs,
  }) as grpc.ClientReadableStream<EchoReply>;
  let received = 0;
  let peer: string | undefined;
  call.on('data', (reply: EchoReply) => {
    received++;
    peer = reply.peer;
  });
  call.on('error', () => undefined);
  return {
    received: () => received,
    peer: () => peer,
    ended: new Promise((resolve) =>
      call.on('status', (status: grpc.StatusObject) =>
        resolve({ code: status.code, details: status.details, at: Date.now() }),
      ),
    ),
  };
}
