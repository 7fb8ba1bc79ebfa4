import diagnostics from 'node:diagnostics_channel';
import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api';
import type { PoolService } from '../pool/pool.service.js';
import {
  POOL_EVENTS,
  type MemberConnectedEvent,
  type MemberReconnectEvent,
  type ScaleEvent,
} from '../telemetry/pool-events.js';

/**
 * OpenTelemetry instruments for every pool. Gauges and call counters are observable: they
 * read the pools' own counters when the reader collects, so a call costs nothing more
 * with metrics on. Reconnects, scale operations and connect time come from the pools'
 * diagnostics_channel events.
 */
export class PoolMetrics {
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly meter: Meter,
    private readonly pools: () => readonly PoolService[],
  ) {}

  start(): void {
    const { meter } = this;
    this.observe(
      meter.createObservableGauge('grpc_pool.size', {
        description: 'Members the pool keeps (expected size)',
      }),
      (pool, result) => result.observe(pool.status().size, { pool: pool.name }),
    );
    this.observe(
      meter.createObservableGauge('grpc_pool.ready', {
        description: 'Members ready to take calls',
      }),
      (pool, result) => result.observe(pool.status().ready, { pool: pool.name }),
    );
    this.observe(
      meter.createObservableGauge('grpc_pool.member.in_flight', {
        description: 'Calls in flight per member',
      }),
      (pool, result) => {
        for (const member of pool.status().members) {
          result.observe(member.inFlight, memberAttributes(pool, member));
        }
      },
    );
    this.observe(
      meter.createObservableCounter('grpc_pool.calls.started', { description: 'Calls started' }),
      (pool, result) => {
        for (const member of pool.status().members) {
          result.observe(member.callsStarted, memberAttributes(pool, member));
        }
      },
    );
    this.observe(
      meter.createObservableCounter('grpc_pool.calls.finished', {
        description: 'Calls finished, by gRPC status',
      }),
      (pool, result) => {
        for (const member of pool.status().members) {
          for (const [status, count] of Object.entries(member.callsByStatus)) {
            result.observe(count, { ...memberAttributes(pool, member), status });
          }
        }
      },
    );
    this.observe(
      meter.createObservableCounter('grpc_pool.picks', { description: 'Members handed out' }),
      (pool, result) => result.observe(pool.status().picks, { pool: pool.name }),
    );

    const reconnects = meter.createCounter('grpc_pool.reconnects', {
      description: 'Reconnects scheduled',
    });
    const scaleOperations = meter.createCounter('grpc_pool.scale.operations', {
      description: 'Scale operations done',
    });
    const connectTime = meter.createHistogram('grpc_pool.connect.duration', {
      description: 'Time to connect a member',
      unit: 'ms',
    });
    this.on<MemberReconnectEvent>(POOL_EVENTS.memberReconnect, (event) =>
      reconnects.add(1, { pool: event.pool, target: event.target, reason: event.reason }),
    );
    this.on<ScaleEvent>(POOL_EVENTS.scaleDone, (event) =>
      scaleOperations.add(1, { pool: event.pool, operation: event.operation }),
    );
    this.on<MemberConnectedEvent>(POOL_EVENTS.memberConnected, (event) =>
      connectTime.record(event.connectMs, { pool: event.pool, target: event.target }),
    );
  }

  stop(): void {
    this.unsubscribe.splice(0).forEach((unsubscribe) => unsubscribe());
  }

  private observe(
    instrument: {
      addCallback(callback: (result: ObservableResult) => void): void;
      removeCallback(callback: (result: ObservableResult) => void): void;
    },
    read: (pool: PoolService, result: ObservableResult) => void,
  ): void {
    const callback = (result: ObservableResult) => {
      for (const pool of this.pools()) {
        read(pool, result);
      }
    };
    instrument.addCallback(callback);
    this.unsubscribe.push(() => instrument.removeCallback(callback));
  }

  private on<T>(name: string, handle: (event: T) => void): void {
    const listener = (message: unknown) => handle(message as T);
    diagnostics.subscribe(name, listener);
    this.unsubscribe.push(() => diagnostics.unsubscribe(name, listener));
  }
}

function memberAttributes(
  pool: PoolService,
  member: { id: number; target: string; slot: number | null },
): Attributes {
  return { pool: pool.name, target: member.target, member: member.id, slot: member.slot ?? -1 };
}
