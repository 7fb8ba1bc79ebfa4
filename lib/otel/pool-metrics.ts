import diagnostics from 'node:diagnostics_channel';
import type { BatchObservableCallback, Meter, Observable } from '@opentelemetry/api';
import type { MemberOutReason } from '../interfaces/pool-status.interface.js';
import type { PoolService } from '../pool/pool.service.js';
import {
  POOL_EVENTS,
  type AddressesChangedEvent,
  type MemberConnectedEvent,
  type MemberMovedEvent,
  type MemberOutEvent,
  type AutoscaleDecisionEvent,
  type AutoscaleThrashEvent,
  type RenewalEvent,
  type MemberReconnectEvent,
  type ScaleEvent,
} from '../telemetry/pool-events.js';

/**
 * Every reason a member can be out for: `grpc_pool.members.out` reports each, 0 included. A
 * record, so that a reason added to `MemberOutReason` and missing here does not compile.
 */
const OUT_REASONS = Object.keys({
  NOT_SERVING: true,
  SERVICE_UNKNOWN: true,
  'probe-failures': true,
  ejected: true,
} satisfies Record<MemberOutReason, true>) as readonly MemberOutReason[];

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
    const size = meter.createObservableGauge('grpc_pool.size', {
      description: 'Members the pool keeps (expected size)',
    });
    const ready = meter.createObservableGauge('grpc_pool.ready', {
      description: 'Members ready to take calls',
    });
    const inFlight = meter.createObservableGauge('grpc_pool.in_flight', {
      description: 'Calls in flight, per target',
    });
    const started = meter.createObservableCounter('grpc_pool.calls.started', {
      description: 'Calls started, per target, over every member the pool had',
    });
    const finished = meter.createObservableCounter('grpc_pool.calls.finished', {
      description: 'Calls finished, per target and gRPC status, over every member the pool had',
    });
    const picks = meter.createObservableCounter('grpc_pool.picks', {
      description: 'Members handed out',
    });
    const outNow = meter.createObservableGauge('grpc_pool.members.out', {
      description:
        'Connected members held out of rotation (health checking, outlier ejection), by reason',
    });
    // One status() per pool per collection, shared by every instrument: the instruments of
    // one export then describe the same moment, and a collection costs one snapshot.
    this.observeAll([size, ready, inFlight, started, finished, picks, outNow], (result) => {
      for (const pool of this.pools()) {
        const status = pool.status();
        const attributes = { pool: pool.name };
        result.observe(size, status.size, attributes);
        result.observe(ready, status.ready, attributes);
        result.observe(picks, status.picks, attributes);
        // Every reason, 0 when no member is out for it: a gauge that stops being reported
        // keeps its last value in most backends, so it would read "1 ejected" for ever.
        for (const reason of OUT_REASONS) {
          const out = status.members.filter((member) => member.out?.reason === reason).length;
          result.observe(outNow, out, { ...attributes, reason });
        }
        // Pool-level series from the pool's totals, which keep the calls of members that
        // left: no member id (one series per member would grow without bound and reach the
        // SDK's cardinality limit), so a member leaving loses nothing and adds no series.
        for (const calls of status.targets) {
          const targetAttributes = { pool: pool.name, target: calls.target };
          result.observe(inFlight, calls.inFlight, targetAttributes);
          result.observe(started, calls.callsStarted, targetAttributes);
          // A code once seen stays in the totals: its series never goes silent.
          for (const [code, count] of Object.entries(calls.callsByStatus)) {
            result.observe(finished, count, { ...targetAttributes, status: code });
          }
        }
      }
    });

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
    const outs = meter.createCounter('grpc_pool.member.outs', {
      description: 'Members taken out of rotation (health checking, outlier ejection), by reason',
    });
    this.on<MemberOutEvent>(POOL_EVENTS.memberOut, (event) =>
      outs.add(1, { pool: event.pool, target: event.target, reason: event.reason }),
    );
    this.on<MemberReconnectEvent>(POOL_EVENTS.memberReconnect, (event) =>
      reconnects.add(1, { pool: event.pool, target: event.target, reason: event.reason }),
    );
    this.on<ScaleEvent>(POOL_EVENTS.scaleDone, (event) =>
      scaleOperations.add(1, { pool: event.pool, operation: event.operation }),
    );
    const addressChanges = meter.createCounter('grpc_pool.address.changes', {
      description: 'Resolutions that changed the addresses of a spread target',
    });
    const moves = meter.createCounter('grpc_pool.member.moves', {
      description: 'Members moved to another address of their target',
    });
    this.on<AddressesChangedEvent>(POOL_EVENTS.addressesChanged, (event) =>
      addressChanges.add(1, { pool: event.pool, target: event.target }),
    );
    this.on<MemberMovedEvent>(POOL_EVENTS.memberMoved, (event) =>
      moves.add(1, { pool: event.pool, target: event.target, reason: event.reason }),
    );
    this.on<MemberConnectedEvent>(POOL_EVENTS.memberConnected, (event) =>
      connectTime.record(event.connectMs, { pool: event.pool, target: event.target }),
    );
    this.adaptive();
  }

  /** Autoscaler decisions and renewals, from their events. */
  private adaptive(): void {
    const { meter } = this;
    const decisions = meter.createCounter('grpc_pool.autoscale.decisions', {
      description: 'Members the autoscaler added (scale-up) or removed (scale-down)',
    });
    const thrash = meter.createCounter('grpc_pool.autoscale.thrash', {
      description: 'Thrash warnings: 5 autoscaler resizes in a row in alternating directions',
    });
    const renewals = meter.createCounter('grpc_pool.renewals', {
      description: 'Member renewals, by reason and outcome (done, failed)',
    });
    const renewedAge = meter.createHistogram('grpc_pool.renewal.member_age', {
      description: 'How long a member had been connected when its renewal started',
      unit: 'ms',
    });
    this.on<AutoscaleDecisionEvent>(POOL_EVENTS.autoscaleDecision, (event) =>
      decisions.add(1, { pool: event.pool, action: event.action }),
    );
    this.on<AutoscaleThrashEvent>(POOL_EVENTS.autoscaleThrash, (event) =>
      thrash.add(1, { pool: event.pool }),
    );
    this.on<RenewalEvent>(POOL_EVENTS.renewalStart, (event) =>
      renewedAge.record(event.ageMs, { pool: event.pool, reason: event.reason }),
    );
    for (const name of [POOL_EVENTS.renewalDone, POOL_EVENTS.renewalFailed]) {
      this.on<RenewalEvent>(name, (event) =>
        renewals.add(1, { pool: event.pool, reason: event.reason, outcome: event.phase }),
      );
    }
  }

  stop(): void {
    this.unsubscribe.splice(0).forEach((unsubscribe) => unsubscribe());
  }

  private observeAll(observables: Observable[], callback: BatchObservableCallback): void {
    this.meter.addBatchObservableCallback(callback, observables);
    this.unsubscribe.push(() => this.meter.removeBatchObservableCallback(callback, observables));
  }

  private on<T>(name: string, handle: (event: T) => void): void {
    const listener = (message: unknown) => handle(message as T);
    diagnostics.subscribe(name, listener);
    this.unsubscribe.push(() => diagnostics.unsubscribe(name, listener));
  }
}
