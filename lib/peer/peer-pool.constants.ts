import { POOL_DEFAULTS } from '../grpc-pool.constants.js';

/** Defaults applied by `resolvePeerPoolOptions` when an option is left out. */
export const PEER_POOL_DEFAULTS = {
  maxConnections: 100,
  idleTimeoutMs: 60_000,
  connectTimeoutMs: POOL_DEFAULTS.connectTimeoutMs,
  drainTimeoutMs: POOL_DEFAULTS.drainTimeoutMs,
  perEndpointSize: 1,
} as const;

/** Largest `maxConnections` a peer pool accepts (each one is a TCP connection and a file descriptor). */
export const MAX_PEER_CONNECTIONS = 100_000;

/**
 * The idle sweep runs this many times per `idleTimeoutMs`. A peer closes between
 * `idleTimeoutMs` and `idleTimeoutMs` plus one tick after its last use, never before.
 */
export const IDLE_SWEEP_TICKS = 10;
