import { credentials as grpcCredentials, type ChannelOptions } from '@grpc/grpc-js';
import {
  MAX_POOL_SIZE,
  MAX_TIMER_MS,
  MEMBER_IDLE_TIMEOUT_MS,
  POOL_DEFAULTS,
} from '../grpc-pool.constants.js';
import type {
  GrpcPoolOptions,
  ResolvedPoolOptions,
} from '../interfaces/grpc-pool-options.interface.js';
import { isStrategyName, STRATEGY_NAMES } from '../strategies/create-strategy.js';
import { didYouMean, oneEditAway, OptionChecker } from './option-checker.js';
import { resolveProto } from './resolve-proto.js';
import { resolveUrls } from './resolve-targets.js';
import { resolveInterceptors, resolveServiceConfig } from './resolve-call-options.js';
import { nodeLookup } from './resolve-addresses.js';
import { resolveHealthCheck, resolveOutlierEjection } from './resolve-health-options.js';
import { resolveAdaptiveOptions, resolvePeakEwma } from './resolve-adaptive-options.js';

const KNOWN_OPTIONS = new Set([
  'url',
  'size',
  'strategy',
  'credentials',
  'channelOptions',
  'keepalive',
  'backoff',
  'readyTimeoutMs',
  'onReadyTimeout',
  'drainTimeoutMs',
  'connectTimeoutMs',
  'minReady',
  'statusIntervalMs',
  'package',
  'protoPath',
  'loader',
  'protoLoader',
  'packageDefinition',
  'maxSendMessageLength',
  'maxReceiveMessageLength',
  'maxMetadataSize',
  'interceptors',
  'serviceConfig',
  'defaultDeadlineMs',
  'peakEwma',
  'addressMode',
  'resolveIntervalMs',
  'lookup',
  'healthCheck',
  'outlierEjection',
  'autoscale',
  'maxConnectionAgeMs',
  'maxConnectionAgeJitter',
  'resetBudget',
  'warmUp',
  'warmUpTimeoutMs',
]);

/** Nest's message size option names and the grpc-js channel args they stand for. */
const MESSAGE_SIZE_ARGS: Readonly<Record<string, string>> = {
  maxSendMessageLength: 'grpc.max_send_message_length',
  maxReceiveMessageLength: 'grpc.max_receive_message_length',
  maxMetadataSize: 'grpc.max_metadata_size',
};

/** Nest's keepalive option names and the grpc-js channel args they stand for. */
const KEEPALIVE_ARGS: Readonly<Record<string, string>> = {
  keepaliveTimeMs: 'grpc.keepalive_time_ms',
  keepaliveTimeoutMs: 'grpc.keepalive_timeout_ms',
  keepalivePermitWithoutCalls: 'grpc.keepalive_permit_without_calls',
  http2MaxPingsWithoutData: 'grpc.http2.max_pings_without_data',
  http2MinTimeBetweenPingsMs: 'grpc.http2.min_time_between_pings_ms',
  http2MinPingIntervalWithoutDataMs: 'grpc.http2.min_ping_interval_without_data_ms',
  http2MaxPingStrikes: 'grpc.http2.max_ping_strikes',
};

/**
 * Checks every field of a pool's options once, fills in the defaults and freezes the
 * result. Throws one {@link PoolConfigError} listing every problem found, each naming the
 * option, the bad value and what is allowed (with "did you mean" for near-miss names).
 */
export function resolvePoolOptions(name: string, raw: unknown): ResolvedPoolOptions {
  const check = new OptionChecker(name, true);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    check.fail('(options)', raw, 'an object with at least { url }');
  }
  const options = raw as GrpcPoolOptions;
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      const near = oneEditAway(key, KNOWN_OPTIONS);
      check.problem(
        key,
        `is not a pool option; ${near ? `did you mean ${JSON.stringify(near)}? ` : ''}known options: ${[...KNOWN_OPTIONS].join(', ')}`,
      );
    }
  }
  const credentials = options.credentials ?? grpcCredentials.createInsecure();
  const isCredentials = typeof (credentials as { _isSecure?: unknown })._isSecure === 'function';
  if (!isCredentials) {
    check.report(
      'credentials',
      credentials,
      'grpc-js ChannelCredentials, e.g. credentials.createSsl()',
    );
  }
  // grpc-js has no public "is this TLS" read; _isSecure() is on every ChannelCredentials.
  const urls = resolveUrls(check, options.url, !isCredentials || credentials._isSecure());
  const adaptive = resolveAdaptiveOptions(check, options);
  const { autoscale } = adaptive;
  // Autoscaled, the pool starts at `size` within [min, max], or at `min` without one.
  const size = check.integer(
    'size',
    options.size ?? autoscale?.min ?? POOL_DEFAULTS.size,
    autoscale?.min ?? 1,
    autoscale?.max ?? MAX_POOL_SIZE,
  );
  const strategy = options.strategy ?? POOL_DEFAULTS.strategy;
  if (typeof strategy === 'string' ? !isStrategyName(strategy) : !isStrategyObject(strategy)) {
    check.report(
      'strategy',
      strategy,
      `one of ${STRATEGY_NAMES.join(', ')} or an object { name: string, pick(members, count): number }${didYouMean(strategy, STRATEGY_NAMES)}`,
    );
  }
  const minReady =
    options.minReady === undefined
      ? undefined
      : check.integer('minReady', options.minReady, 1, size);
  const onReadyTimeout = options.onReadyTimeout ?? POOL_DEFAULTS.onReadyTimeout;
  if (onReadyTimeout !== 'fail' && onReadyTimeout !== 'warn') {
    check.report('onReadyTimeout', onReadyTimeout, "'fail' or 'warn'");
  }
  const addressMode = options.addressMode ?? POOL_DEFAULTS.addressMode;
  if (addressMode !== 'spread' && addressMode !== 'channel') {
    check.report(
      'addressMode',
      addressMode,
      `'spread' or 'channel'${didYouMean(addressMode, ['spread', 'channel'])}`,
    );
  }
  const lookup = options.lookup ?? nodeLookup;
  if (typeof lookup !== 'function') {
    check.report(
      'lookup',
      lookup,
      'a function (host) => Promise<{ address }[]>, like dns.promises.lookup(host, { all: true })',
    );
  }
  const resolved: ResolvedPoolOptions = {
    name,
    urls,
    size,
    strategy,
    credentials,
    channelOptions: Object.freeze(resolveChannelOptions(check, options)),
    readyTimeoutMs: check.integer(
      'readyTimeoutMs',
      options.readyTimeoutMs ?? POOL_DEFAULTS.readyTimeoutMs,
      0,
      MAX_TIMER_MS,
    ),
    onReadyTimeout,
    drainTimeoutMs: check.integer(
      'drainTimeoutMs',
      options.drainTimeoutMs ?? POOL_DEFAULTS.drainTimeoutMs,
      0,
      MAX_TIMER_MS,
    ),
    connectTimeoutMs: check.integer(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? POOL_DEFAULTS.connectTimeoutMs,
      1,
      MAX_TIMER_MS,
    ),
    minReady,
    statusIntervalMs: check.integer(
      'statusIntervalMs',
      options.statusIntervalMs ?? 0,
      0,
      MAX_TIMER_MS,
    ),
    proto: resolveProto(check, options),
    interceptors: resolveInterceptors(check, options.interceptors),
    defaultDeadlineMs: check.integer(
      'defaultDeadlineMs',
      options.defaultDeadlineMs ?? 0,
      0,
      MAX_TIMER_MS,
    ),
    peakEwma: resolvePeakEwma(check, strategy, options.peakEwma),
    addressMode,
    resolveIntervalMs: check.integer(
      'resolveIntervalMs',
      options.resolveIntervalMs ?? POOL_DEFAULTS.resolveIntervalMs,
      1,
      MAX_TIMER_MS,
    ),
    lookup,
    healthCheck: resolveHealthCheck(check, options.healthCheck),
    outlierEjection: resolveOutlierEjection(check, options.outlierEjection),
    ...adaptive,
  };
  check.finish();
  return Object.freeze(resolved);
}

function isStrategyObject(value: unknown): boolean {
  const strategy = value as { name?: unknown; pick?: unknown } | null;
  return (
    typeof strategy === 'object' &&
    strategy !== null &&
    typeof strategy.name === 'string' &&
    typeof strategy.pick === 'function'
  );
}

/** The channel args every member shares: the user's, then keepalive and backoff, then the pool's own. */
function resolveChannelOptions(check: OptionChecker, options: GrpcPoolOptions): ChannelOptions {
  const args: ChannelOptions = { ...check.record('channelOptions', options.channelOptions) };
  for (const [key, value] of Object.entries(args)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'object') {
      check.report(
        `channelOptions.${key}`,
        value,
        'a string, a number or an object as grpc-js channel args take',
      );
    }
  }
  const keepalive = check.record('keepalive', options.keepalive);
  for (const [key, value] of Object.entries(keepalive)) {
    const arg = Object.hasOwn(KEEPALIVE_ARGS, key) ? KEEPALIVE_ARGS[key] : undefined;
    if (arg === undefined) {
      check.report(
        `keepalive.${key}`,
        value,
        `one of ${Object.keys(KEEPALIVE_ARGS).join(', ')}${didYouMean(key, Object.keys(KEEPALIVE_ARGS))}`,
      );
      continue;
    }
    args[arg] = check.integer(`keepalive.${key}`, value, 0, MAX_TIMER_MS);
  }
  const backoff = check.record('backoff', options.backoff);
  check.knownKeys('backoff', backoff, ['initialMs', 'maxMs']);
  if (backoff.initialMs !== undefined) {
    args['grpc.initial_reconnect_backoff_ms'] = check.integer(
      'backoff.initialMs',
      backoff.initialMs,
      1,
      MAX_TIMER_MS,
    );
  }
  if (backoff.maxMs !== undefined) {
    const least = (args['grpc.initial_reconnect_backoff_ms'] as number | undefined) ?? 1;
    args['grpc.max_reconnect_backoff_ms'] = check.integer(
      'backoff.maxMs',
      backoff.maxMs,
      least,
      MAX_TIMER_MS,
    );
  }
  for (const [key, arg] of Object.entries(MESSAGE_SIZE_ARGS)) {
    const value = options[key as keyof GrpcPoolOptions];
    if (value !== undefined) {
      args[arg] = check.integer(key, value, -1, MAX_TIMER_MS);
    }
  }
  const serviceConfig = resolveServiceConfig(check, options.serviceConfig);
  if (serviceConfig !== undefined) {
    args['grpc.service_config'] = serviceConfig;
  }
  args['grpc.client_idle_timeout_ms'] ??= MEMBER_IDLE_TIMEOUT_MS;
  // Without this, grpc-js would share one connection between all members with equal args.
  args['grpc.use_local_subchannel_pool'] = 1;
  return args;
}
