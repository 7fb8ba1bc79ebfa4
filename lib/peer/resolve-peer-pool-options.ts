import { MAX_POOL_SIZE, MAX_TIMER_MS } from '../grpc-pool.constants.js';
import { PoolConfigError } from '../errors/pool.errors.js';
import { OptionChecker } from '../options/option-checker.js';
import { resolvePoolOptions } from '../options/resolve-pool-options.js';
import type {
  GrpcPeerPoolOptions,
  PeerConnectionOptions,
  ResolvedPeerPoolOptions,
} from './peer-pool-options.interface.js';
import { MAX_PEER_CONNECTIONS, PEER_POOL_DEFAULTS } from './peer-pool.constants.js';

/** Options that shape every peer's connection; checked by the main pool's own resolver. */
const CONNECTION_OPTIONS = [
  'strategy',
  'credentials',
  'channelOptions',
  'keepalive',
  'backoff',
  'maxSendMessageLength',
  'maxReceiveMessageLength',
  'maxMetadataSize',
] as const;

const KNOWN_OPTIONS = new Set<string>([
  ...CONNECTION_OPTIONS,
  'maxConnections',
  'idleTimeoutMs',
  'connectTimeoutMs',
  'drainTimeoutMs',
  'perEndpointSize',
  'endpointOptions',
]);

/**
 * Stands in for a peer's address while the shared connection options are checked at
 * startup; no connection is ever made to it.
 */
const PLACEHOLDER_TARGET = 'localhost:443';

/**
 * Checks a peer pool's options once, fills in the defaults and freezes the result. Throws
 * {@link PoolConfigError} naming the pool, the option, the bad value and what is allowed.
 * The connection options go through `resolvePoolOptions`, the main pool's checks, so a bad
 * `backoff.maxMs` fails at startup exactly as it would for `GrpcPoolModule`.
 */
export function resolvePeerPoolOptions(name: string, raw: unknown): ResolvedPeerPoolOptions {
  const check = new OptionChecker(name);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    check.fail('(options)', raw, 'an object such as { maxConnections: 100 }');
  }
  const options = raw as GrpcPeerPoolOptions;
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new PoolConfigError(
        name,
        key,
        `is not a peer pool option; known options: ${[...KNOWN_OPTIONS].join(', ')}`,
      );
    }
  }
  const integer = (option: keyof typeof PEER_POOL_DEFAULTS, min: number, max: number) =>
    check.integer(option, options[option] ?? PEER_POOL_DEFAULTS[option], min, max);
  const perEndpointSize = integer('perEndpointSize', 1, MAX_POOL_SIZE);
  const connectTimeoutMs = integer('connectTimeoutMs', 1, MAX_TIMER_MS);
  const drainTimeoutMs = integer('drainTimeoutMs', 0, MAX_TIMER_MS);
  const { endpointOptions } = options;
  if (endpointOptions !== undefined && typeof endpointOptions !== 'function') {
    check.fail(
      'endpointOptions',
      endpointOptions,
      'a function (endpoint) => ({ credentials?, channelOptions? }) | undefined',
    );
  }
  const connection: PeerConnectionOptions = Object.freeze({
    ...Object.fromEntries(
      CONNECTION_OPTIONS.filter((key) => options[key] !== undefined).map((key) => [
        key,
        options[key],
      ]),
    ),
    size: perEndpointSize,
    connectTimeoutMs,
    drainTimeoutMs,
  });
  resolvePoolOptions(name, { ...connection, url: PLACEHOLDER_TARGET });
  return Object.freeze({
    name,
    maxConnections: integer('maxConnections', 1, MAX_PEER_CONNECTIONS),
    idleTimeoutMs: resolveIdleTimeout(check, options.idleTimeoutMs),
    connectTimeoutMs,
    drainTimeoutMs,
    perEndpointSize,
    endpointOptions,
    connection,
  });
}

/** 0 turns the idle sweep off; below 10 ms its timer would spin for nothing. */
function resolveIdleTimeout(check: OptionChecker, value: unknown): number {
  const idleTimeoutMs = value ?? PEER_POOL_DEFAULTS.idleTimeoutMs;
  if (idleTimeoutMs === 0) {
    return 0;
  }
  if (
    typeof idleTimeoutMs !== 'number' ||
    !Number.isInteger(idleTimeoutMs) ||
    idleTimeoutMs < 10 ||
    idleTimeoutMs > MAX_TIMER_MS
  ) {
    check.fail(
      'idleTimeoutMs',
      idleTimeoutMs,
      `0 (never close idle peers) or a whole number of ms from 10 to ${MAX_TIMER_MS}`,
    );
  }
  return idleTimeoutMs;
}
