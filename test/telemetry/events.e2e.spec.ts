import diagnostics from 'node:diagnostics_channel';
import type { LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as grpc from '@grpc/grpc-js';
import { getPoolToken, GrpcPoolModule, POOL_EVENTS, type PoolService } from 'nestjs-grpc-pool';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';

/** Records every pool event by channel name. */
function recordEvents() {
  const seen: Array<{ name: string; event: Record<string, unknown> }> = [];
  const listeners = Object.values(POOL_EVENTS).map((name) => {
    const listener = (event: unknown) =>
      seen.push({ name, event: event as Record<string, unknown> });
    diagnostics.subscribe(name, listener);
    return () => diagnostics.unsubscribe(name, listener);
  });
  return {
    seen,
    of: (name: string) => seen.filter((entry) => entry.name === name).map((entry) => entry.event),
    stop: () => listeners.forEach((unsubscribe) => unsubscribe()),
  };
}

/** A Nest logger that keeps every line. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (message: unknown, context?: string) =>
    this.lines.push(`log ${context} ${String(message)}`);
  warn = (message: unknown, context?: string) =>
    this.lines.push(`warn ${context} ${String(message)}`);
  error = (message: unknown, context?: string) =>
    this.lines.push(`error ${context} ${String(message)}`);
  debug = (message: unknown, context?: string) =>
    this.lines.push(`debug ${context} ${String(message)}`);
  verbose = (message: unknown, context?: string) =>
    this.lines.push(`verbose ${context} ${String(message)}`);
}

describe('telemetry events, status ticks and logs', () => {
  it('publishes init, connect, disconnect, reconnect, scale and drain events with their payloads, and logs them', async () => {
    const server = await EchoServer.start();
    const events = recordEvents();
    const logger = new CapturingLogger();
    const app = await Test.createTestingModule({
      imports: [
        GrpcPoolModule.forRoot({
          name: 'telemetry',
          url: server.url,
          size: 2,
          backoff: { initialMs: 100, maxMs: 200 },
          drainTimeoutMs: 200,
        }),
      ],
    })
      .setLogger(logger)
      .compile();
    app.useLogger(logger);
    await app.init();
    const pool = app.get<PoolService>(getPoolToken('telemetry'));
    try {
      await waitFor(() => pool.status().ready === 2, 'two ready members');
      expect(events.of(POOL_EVENTS.init)).toEqual([
        { pool: 'telemetry', size: 2, targets: [server.url], strategy: 'round-robin' },
      ]);
      const connected = events.of(POOL_EVENTS.memberConnected);
      expect(connected).toHaveLength(2);
      for (const event of connected) {
        expect(event).toMatchObject({
          pool: 'telemetry',
          target: server.url,
          memberId: expect.any(Number),
          connectMs: expect.any(Number),
        });
        expect(event.connectMs as number).toBeGreaterThanOrEqual(0);
      }
      expect(events.of(POOL_EVENTS.scaleDone)).toEqual([
        expect.objectContaining({
          pool: 'telemetry',
          phase: 'done',
          operation: 'start',
          requested: 2,
          from: 0,
          size: 2,
        }),
      ]);

      await pool.scaleUp(1);
      expect(events.of(POOL_EVENTS.scaleRequested).at(-1)).toMatchObject({
        operation: 'scaleUp',
        requested: 1,
        from: 2,
      });
      expect(events.of(POOL_EVENTS.scaleDone).at(-1)).toMatchObject({
        operation: 'scaleUp',
        requested: 1,
        from: 2,
        size: 3,
        durationMs: expect.any(Number),
      });
      await waitFor(() => pool.status().ready === 3, 'three ready members');

      // A long call keeps a member busy through a scale-down of every idle member and is cancelled after the drain.
      const slow = unary(pool.getChannel(), { delayMs: 5_000 }).catch(
        (error: grpc.ServiceError) => error,
      );
      await waitFor(() => pool.status().inFlight === 1, 'one call in flight');
      await pool.resize(1);
      expect(events.of(POOL_EVENTS.drainStart).at(-1)).toEqual({
        pool: 'telemetry',
        reason: 'scale-down',
        members: 2,
        inFlight: 0,
      });
      expect(events.of(POOL_EVENTS.drainEnd).at(-1)).toMatchObject({
        pool: 'telemetry',
        reason: 'scale-down',
        cancelled: 0,
      });

      server.stop();
      await waitFor(
        () =>
          events.of(POOL_EVENTS.memberDisconnected).some((event) => event.reason !== 'SHUTDOWN'),
        'a disconnect',
      );
      const lost = events
        .of(POOL_EVENTS.memberDisconnected)
        .find((event) => event.reason !== 'SHUTDOWN')!;
      expect(lost).toMatchObject({
        pool: 'telemetry',
        target: server.url,
        upMs: expect.any(Number),
      });
      await waitFor(
        () => events.of(POOL_EVENTS.memberConnectionFailed).length > 0,
        'a failed connection attempt',
      );
      expect(events.of(POOL_EVENTS.memberConnectionFailed)[0]).toMatchObject({
        pool: 'telemetry',
        error: expect.stringContaining('ECONNREFUSED'),
      });
      // One outage, one reconnect (regression: it was counted once for IDLE and again when
      // the first attempt failed into grpc-js's backoff).
      const member = lost.memberId;
      await waitFor(
        () =>
          events.of(POOL_EVENTS.memberConnectionFailed).some((event) => event.memberId === member),
        'a failed attempt of the lost member',
      );
      expect(
        events
          .of(POOL_EVENTS.memberReconnect)
          .filter((event) => event.memberId === member)
          .map((event) => event.reason),
      ).toEqual(['idle']);
      // The server went away under the call: it ends with a status, it does not hang.
      expect([grpc.status.CANCELLED, grpc.status.UNAVAILABLE]).toContain(
        ((await slow) as grpc.ServiceError).code,
      );
    } finally {
      await app.close();
      events.stop();
    }
    expect(events.of(POOL_EVENTS.drainStart).at(-1)).toMatchObject({
      reason: 'shutdown',
      members: 1,
    });
    expect(events.of(POOL_EVENTS.drainEnd).at(-1)).toMatchObject({
      reason: 'shutdown',
      cancelled: 0,
    });

    const poolLines = logger.lines.filter((line) => line.includes('GrpcPool(telemetry)'));
    expect(
      poolLines.some((line) =>
        /^log .* member \d connected to 127\.0\.0\.1:\d+ in \d+ ms$/.test(line),
      ),
    ).toBe(true);
    expect(
      poolLines.some((line) =>
        /^warn .* lost its connection .* \(TRANSIENT_FAILURE|IDLE|CONNECTING\)/.test(line),
      ),
    ).toBe(true);
    expect(
      poolLines.some((line) => /^warn .* could not connect to .*ECONNREFUSED/.test(line)),
    ).toBe(true);
    // Nothing per call: 2 members + 1 + reconnects; far fewer lines than the calls made.
    expect(poolLines.filter((line) => line.includes('Unary'))).toEqual([]);
  });

  it('publishes the status snapshot every statusIntervalMs and stops on close', async () => {
    const server = await EchoServer.start();
    const events = recordEvents();
    const app = await Test.createTestingModule({
      imports: [GrpcPoolModule.forRoot({ url: server.url, size: 1, statusIntervalMs: 50 })],
    }).compile();
    await app.init();
    const pool = app.get<PoolService>(getPoolToken());
    try {
      await waitFor(() => events.of(POOL_EVENTS.status).length >= 3, 'three status ticks', 3_000);
      expect(events.of(POOL_EVENTS.status)[0]).toMatchObject({
        pool: 'default',
        status: { name: 'default', size: 1 },
      });
    } finally {
      await app.close();
    }
    const after = events.of(POOL_EVENTS.status).length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events.of(POOL_EVENTS.status).length).toBe(after);
    events.stop();
    server.stop();
    expect(pool.status().closed).toBe(true);
  });

  it('status() carries per-member connected-since, last change, calls started, failed and by status, and pool totals', async () => {
    const server = await EchoServer.start();
    const app = await Test.createTestingModule({
      imports: [GrpcPoolModule.forRoot({ url: server.url, size: 2 })],
    }).compile();
    await app.init();
    const pool = app.get<PoolService>(getPoolToken());
    try {
      await waitFor(() => pool.status().ready === 2, 'two ready members');
      await unary(pool.getChannel(), {});
      await unary(pool.getChannel(), {});
      await unary(pool.getChannel(), { failCode: grpc.status.NOT_FOUND }).catch(() => undefined);
      const status = pool.status();
      expect(status).toMatchObject({ callsStarted: 3, callsFailed: 1, inFlight: 0, picks: 3 });
      for (const member of status.members) {
        expect(Date.parse(member.readySince!)).toBeLessThanOrEqual(Date.now());
        expect(Date.parse(member.lastStateChange)).toBeLessThanOrEqual(Date.now());
        expect(member.disconnects).toBe(0);
      }
      expect(status.members.map((member) => member.callsByStatus)).toEqual([
        { OK: 1, NOT_FOUND: 1 },
        { OK: 1 },
      ]);
    } finally {
      await app.close();
      server.stop();
    }
  });
});
