import type { Attributes, Meter, Observable, BatchObservableCallback } from '@opentelemetry/api';
import type { PeerPoolService } from '../peer/peer-pool.service.js';

/**
 * OpenTelemetry instruments for every peer pool: peers pooled and connected (gauges) and
 * hits, misses, evictions, idle and unhealthy closes (counters), read from each peer pool's
 * `stats()` once per collection, so an `acquire()` costs nothing more with metrics on.
 *
 * Attributes are bounded: `peer_pool` (the peer pool's name) only. A peer pool can hold
 * up to 100,000 endpoints, so series per endpoint are opt-in (`perEndpoint`): then
 * `grpc_peer_pool.peer.connected` reports 1 per connected endpoint, with `endpoint`.
 */
export class PeerPoolMetrics {
  private readonly instruments: Observable[] = [];
  private callback: BatchObservableCallback | undefined;

  constructor(
    private readonly meter: Meter,
    private readonly peerPools: () => readonly PeerPoolService[],
    private readonly perEndpoint = false,
  ) {}

  start(): void {
    const { meter } = this;
    const pooled = meter.createObservableGauge('grpc_peer_pool.peers', {
      description: 'Peers pooled, connecting ones included',
    });
    const connected = meter.createObservableGauge('grpc_peer_pool.connected', {
      description: 'Peers with a ready connection',
    });
    const counters = {
      hits: meter.createObservableCounter('grpc_peer_pool.hits', {
        description: 'acquire() calls that found the endpoint pooled',
      }),
      misses: meter.createObservableCounter('grpc_peer_pool.misses', {
        description: 'acquire() calls that opened a new connection',
      }),
      evictions: meter.createObservableCounter('grpc_peer_pool.evictions', {
        description: 'Peers closed to make room under maxConnections',
      }),
      idleCloses: meter.createObservableCounter('grpc_peer_pool.idle_closes', {
        description: 'Peers closed by the idle sweep',
      }),
      unhealthyCloses: meter.createObservableCounter('grpc_peer_pool.unhealthy_closes', {
        description: 'Peers dropped because their connection failed after it had been ready',
      }),
    };
    const perPeer = this.perEndpoint
      ? meter.createObservableGauge('grpc_peer_pool.peer.connected', {
          description: '1 per connected endpoint (opt-in: one series per endpoint)',
        })
      : undefined;
    this.instruments.push(
      pooled,
      connected,
      ...Object.values(counters),
      ...(perPeer ? [perPeer] : []),
    );
    this.callback = (result) => {
      for (const peers of this.peerPools()) {
        // One stats() snapshot per collection, shared by every instrument.
        const stats = peers.stats();
        const endpoints = peers.connectedPeers();
        const attributes: Attributes = { peer_pool: peers.name };
        result.observe(pooled, stats.size, attributes);
        result.observe(connected, endpoints.length, attributes);
        for (const [field, counter] of Object.entries(counters)) {
          result.observe(counter, stats[field as keyof typeof counters], attributes);
        }
        if (perPeer) {
          for (const endpoint of endpoints) {
            result.observe(perPeer, 1, { peer_pool: peers.name, endpoint });
          }
        }
      }
    };
    meter.addBatchObservableCallback(this.callback, this.instruments);
  }

  stop(): void {
    if (this.callback) {
      this.meter.removeBatchObservableCallback(this.callback, this.instruments);
      this.callback = undefined;
    }
  }
}
