import type {
  ChannelCredentials,
  ChannelInterface,
  ChannelOptions,
  Interceptor,
} from '@grpc/grpc-js';
import type { PoolStrategy, PoolStrategyName } from './pool-strategy.interface.js';
import type { AddressLookup } from '../options/resolve-addresses.js';

/** Keepalive settings, named as in `@nestjs/microservices` `GrpcOptions['options']['keepalive']`. */
export interface GrpcPoolKeepaliveOptions {
  /** `grpc.keepalive_time_ms`: ping the server after this long without activity. */
  keepaliveTimeMs?: number;
  /** `grpc.keepalive_timeout_ms`: close the connection when a ping is not answered in time. */
  keepaliveTimeoutMs?: number;
  /** `grpc.keepalive_permit_without_calls`: 1 to ping even when no call is in flight. */
  keepalivePermitWithoutCalls?: number;
  /** `grpc.http2.max_pings_without_data`. */
  http2MaxPingsWithoutData?: number;
  /** `grpc.http2.min_time_between_pings_ms`. */
  http2MinTimeBetweenPingsMs?: number;
  /** `grpc.http2.min_ping_interval_without_data_ms`. */
  http2MinPingIntervalWithoutDataMs?: number;
  /** `grpc.http2.max_ping_strikes`. */
  http2MaxPingStrikes?: number;
}

/** Reconnect backoff, mapped onto grpc-js's own reconnect channel args. */
export interface GrpcPoolBackoffOptions {
  /** `grpc.initial_reconnect_backoff_ms` (grpc-js default 1,000). */
  initialMs?: number;
  /** `grpc.max_reconnect_backoff_ms` (grpc-js default 120,000). */
  maxMs?: number;
}

/** The server's rapid-reset allowance per connection, mirrored by the pool (see `resetBudget`). */
export interface GrpcPoolResetBudgetOptions {
  /** RST_STREAM frames a connection may send at once. Default 1,000 (Node's `streamResetBurst`). */
  burst?: number;
  /** Refill per second. Default 33 (Node's `streamResetRate`). */
  perSecond?: number;
  /** Renew the member when fewer than this share of `burst` is left. Default 0.25. */
  renewBelow?: number;
}

/** Active health checking of every member over its own connection (`grpc.health.v1`). */
export interface GrpcPoolHealthProbeOptions {
  /** The service name asked about; `''` (the default) asks about the server as a whole. */
  service?: string;
  /** How often a member is probed with `Check`, or a broken `Watch` is opened again (ms). Default 5,000. */
  intervalMs?: number;
  /** A probe (or a `Watch`'s first answer) slower than this counts as failed (ms). Default 1,000. */
  timeoutMs?: number;
}

/** Passive outlier ejection: members whose calls keep failing are taken out for a while. */
export interface GrpcPoolOutlierEjectionOptions {
  /** Calls in a row ending UNAVAILABLE, INTERNAL or UNKNOWN that eject a member. Default 5. */
  consecutiveFailures?: number;
  /** First ejection's length (ms); each next one doubles. Default 30,000. */
  baseEjectionMs?: number;
  /** Longest ejection (ms). Default 300,000. */
  maxEjectionMs?: number;
}

/**
 * @internal Tuning of the `'peak-ewma'` strategy for the tests and the benchmarks (a short
 * `tauMs` makes a recovery that takes 20 s take 2). Not part of the public API: it may
 * change or go in any release.
 */
export interface PeakEwmaTuning {
  /** Decay time constant, ms. Default 10,000. */
  tauMs?: number;
  /** How often the pool decays its members' costs, ms. Default 250. */
  decayIntervalMs?: number;
  /** 1: load = latency × (in flight + 1); 2: latency² × (in flight + 1). */
  costExponent?: 1 | 2;
}

/**
 * Where `getService()` finds its services: the same names and meaning as in
 * `@nestjs/microservices` `GrpcOptions['options']`, so a `ClientsModule.register` config
 * moves over as it is.
 */
export interface PoolProtoOptions {
  /** Proto package name(s), e.g. `'hero'`. */
  package: string | string[];
  /** Path(s) of the .proto file(s). */
  protoPath?: string | string[];
  /** `@grpc/proto-loader` options, e.g. `{ keepCase: true }`. */
  loader?: Record<string, unknown>;
  /** Module to load protos with; default `'@grpc/proto-loader'`. */
  protoLoader?: string;
  /** An already loaded package definition, instead of `protoPath`. */
  packageDefinition?: unknown;
}

/**
 * Autoscaling: the pool adds a member when its calls crowd the members it has and removes
 * one when a member fewer would do, within `[min, max]`. See the README's "Autoscaling".
 *
 * @example autoscale: { min: 2, max: 16, streamsPerMember: 100 }
 */
export interface GrpcPoolAutoscaleOptions {
  /** Fewest members (1 or more). The pool starts at `size`, or at `min` without one. */
  min: number;
  /** Most members (at most 1024). */
  max: number;
  /**
   * Streams one connection may carry at once: the server's `MAX_CONCURRENT_STREAMS`
   * (grpc-js does not tell clients; most servers say 100). Default 100.
   */
  streamsPerMember?: number;
  /**
   * Grow when a call starts on a member with this share of `streamsPerMember` in flight and
   * the least-loaded ready member is as busy. Default 0.7.
   */
  scaleUpAt?: number;
  /**
   * Shrink by one when the peak calls in flight fit in a member fewer at this share of
   * `streamsPerMember` or less; below `scaleUpAt`. Default 0.6.
   */
  scaleDownAt?: number;
  /** Least time between two adds, in ms; doubles (up to 32x) while new members fail to connect. Default 1,000. */
  cooldownMs?: number;
  /** Length of one shrink window, in ms: calls in flight are sampled 10 times per window. Default 30,000. */
  sampleIntervalMs?: number;
  /** Windows in a row that must all fit in a member fewer before one is removed. Default 3. */
  windows?: number;
}

/** Options of one pool, given to `GrpcPoolModule.forRoot` or returned by a `forRootAsync` factory. */
export interface GrpcPoolOptions {
  /**
   * Target(s): `'host:port'`, `'dns:///host:port'`, `'unix:///path'`, … (anything grpc-js
   * resolves). A list spreads the members evenly over the targets.
   */
  url: string | string[];
  /** Members (connections) in the pool. Default 4, at most 1024. */
  size?: number;
  /** How a member is picked per call. Default `'round-robin'`. */
  strategy?: PoolStrategyName | PoolStrategy;
  /** Default `credentials.createInsecure()`. */
  credentials?: ChannelCredentials;
  /** grpc-js channel args given to every member. */
  channelOptions?: ChannelOptions;
  /** Keepalive pings, as in Nest's gRPC transport. */
  keepalive?: GrpcPoolKeepaliveOptions;
  /** Reconnect backoff for every member. */
  backoff?: GrpcPoolBackoffOptions;
  /**
   * Application bootstrap waits this long for at least one ready member. 0 (the default)
   * does not wait.
   */
  readyTimeoutMs?: number;
  /** What bootstrap does when `readyTimeoutMs` passes with no member ready. Default `'fail'`. */
  onReadyTimeout?: 'fail' | 'warn';
  /** On shutdown or scale-down, how long in-flight calls may take before they are cancelled. Default 10,000. */
  drainTimeoutMs?: number;
  /** A member CONNECTING for longer than this gets a fresh channel. Default 20,000. */
  connectTimeoutMs?: number;
  /** Health: fewer ready members than this reports `degraded`. Default: the pool's size. */
  minReady?: number;
  /** Publish a status snapshot on `nestjs-grpc-pool:status` this often (ms). 0 (default): never. */
  statusIntervalMs?: number;
  /** Proto package(s) for `getService()`, as in Nest's gRPC client options. */
  package?: string | string[];
  /** Proto file(s) for `getService()`. */
  protoPath?: string | string[];
  /** `@grpc/proto-loader` options for `getService()`. */
  loader?: Record<string, unknown>;
  /** Proto loader module for `getService()`; default `'@grpc/proto-loader'`. */
  protoLoader?: string;
  /** A loaded package definition for `getService()`, instead of `protoPath`. */
  packageDefinition?: unknown;
  /** `grpc.max_send_message_length` on every member (bytes; -1 for no limit). */
  maxSendMessageLength?: number;
  /** `grpc.max_receive_message_length` on every member (bytes; -1 for no limit). */
  maxReceiveMessageLength?: number;
  /** `grpc.max_metadata_size` on every member (bytes). */
  maxMetadataSize?: number;
  /**
   * grpc-js interceptors for every client the pool makes (`getService()`, `getClient()`,
   * `createClient()`), run before a client's own interceptors: set logging, auth or
   * metadata interceptors once.
   * @example interceptors: [(options, next) => new InterceptingCall(next(options), { start: (md, l, n) => { md.set('x-tenant', 'a'); n(md, l); } })]
   */
  interceptors?: Interceptor[];
  /**
   * A grpc-js service config (retry policy, per-method `timeout`, `waitForReady`) given to
   * every member as the `grpc.service_config` channel arg. Checked by grpc-js at startup.
   * @example serviceConfig: { methodConfig: [{ name: [{ service: 'hero.HeroService' }], retryPolicy: { maxAttempts: 3, initialBackoff: '0.1s', maxBackoff: '1s', backoffMultiplier: 2, retryableStatusCodes: ['UNAVAILABLE'] } }] }
   */
  serviceConfig?: Record<string, unknown>;
  /**
   * A call made through the pool with no deadline gets one this many ms from its start, so a
   * call on a blackholed connection ends DEADLINE_EXCEEDED instead of waiting forever. Calls
   * that set a deadline keep theirs. 0 (the default): off.
   */
  defaultDeadlineMs?: number;
  /** @internal See {@link PeakEwmaTuning}: for tests and benchmarks only. */
  peakEwma?: PeakEwmaTuning;
  /**
   * How members find their backends when a target is a host name (`host:port` or
   * `dns:///host:port`, not an IP literal or `unix:`). `'spread'` (the default): the pool
   * resolves the name itself and spreads the members evenly over its addresses (member i on
   * address i mod K, in an order of this process's own), each dialling its address with the
   * name as authority and TLS server name; it re-resolves every `resolveIntervalMs` and when
   * a member's address fails, and moves members make-before-break. `'channel'`: every member
   * dials the name and grpc-js resolves it (`pick_first`: all members on the first address).
   */
  addressMode?: 'spread' | 'channel';
  /** With `addressMode: 'spread'`: re-resolve names this often (ms). Default 30,000. */
  resolveIntervalMs?: number;
  /**
   * With `addressMode: 'spread'`: how names become addresses. Default: Node's resolver,
   * `dns.promises.lookup(host, { all: true })`, as grpc-js uses it.
   * @example lookup: async () => [{ address: '10.0.0.7' }, { address: '10.0.0.8' }]
   */
  lookup?: AddressLookup;
  /**
   * Probe each member with the standard `grpc.health.v1` service over its own connection:
   * `NOT_SERVING` or `SERVICE_UNKNOWN` take it out of rotation until `SERVING` returns;
   * failed or slow probes do too, but never below half the members. Off by default.
   * @example healthCheck: { service: 'hero.HeroService', intervalMs: 5_000, timeoutMs: 1_000 }
   */
  healthCheck?: GrpcPoolHealthProbeOptions;
  /**
   * Take a member out of rotation when its calls end UNAVAILABLE, INTERNAL or UNKNOWN
   * `consecutiveFailures` times in a row: for `baseEjectionMs`, doubling on each next
   * ejection up to `maxEjectionMs`; never below half the members. Off by default.
   * @example outlierEjection: { consecutiveFailures: 5 }
   */
  outlierEjection?: GrpcPoolOutlierEjectionOptions;
  /** Autoscaling between `min` and `max` members; off (a fixed `size`) by default. */
  autoscale?: GrpcPoolAutoscaleOptions;
  /**
   * Renew each member after it has been connected this long (ms, at least 1,000), one at a
   * time and make-before-break: a new connection is READY (and warmed up) before it takes
   * the member's slot, then the old one drains. Set it below the server's
   * `max_connection_age`. 0 (the default): never.
   */
  maxConnectionAgeMs?: number;
  /**
   * Spread of each member's age: a renewed member lives `maxConnectionAgeMs` minus up to this
   * share of it (and the first members a random share of it, so they do not age out
   * together). From 0 to 0.5; default 0.125.
   */
  maxConnectionAgeJitter?: number;
  /**
   * Keep every connection inside the server's rapid-reset allowance. Servers end an HTTP/2
   * session whose client resets streams too fast (Node's nghttp2: a burst of 1,000
   * RST_STREAM per connection, refilled at 33/s; then every call on it fails with
   * "Session closed with error code 2"), and every call the client ends early (cancel,
   * deadline, a Nest unsubscribe) is one reset. The pool counts them per member and renews
   * a member make-before-break (a fresh connection has a full allowance) once fewer than
   * `renewBelow x burst` are left. Default on, with Node's numbers; `false` turns it off.
   * @example resetBudget: { burst: 1_000, perSecond: 33, renewBelow: 0.25 }
   */
  resetBudget?: GrpcPoolResetBudgetOptions | false;
  /**
   * Run before a renewal's new connection takes a slot, e.g. a cheap RPC on `channel` (a
   * member: the call rides the new connection). Rejecting, or taking longer than
   * `warmUpTimeoutMs`, is retried once; failing twice leaves the old member serving.
   * @example warmUp: (channel) => new Promise((ok, fail) => new HeroClient('', creds, { channelOverride: channel }).ping({}, (e) => (e ? fail(e) : ok(undefined))))
   */
  warmUp?: (channel: ChannelInterface) => Promise<unknown>;
  /** How long one `warmUp` try may take, in ms. Default 5,000. */
  warmUpTimeoutMs?: number;
}

/** Autoscaling settings after validation, every default filled in. */
export type ResolvedAutoscaleOptions = Readonly<Required<GrpcPoolAutoscaleOptions>>;

/** Options after validation: every default filled in, the whole object frozen. */
export interface ResolvedPoolOptions {
  readonly name: string;
  readonly urls: readonly string[];
  readonly size: number;
  readonly strategy: PoolStrategyName | PoolStrategy;
  readonly credentials: ChannelCredentials;
  readonly channelOptions: Readonly<ChannelOptions>;
  readonly readyTimeoutMs: number;
  readonly onReadyTimeout: 'fail' | 'warn';
  readonly drainTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly minReady: number | undefined;
  readonly statusIntervalMs: number;
  /** Set when the pool was given proto options (`package`). */
  readonly proto: Readonly<PoolProtoOptions> | undefined;
  /** Interceptors of every client the pool makes; empty when none. */
  readonly interceptors: readonly Interceptor[];
  /** Deadline given to calls that set none (ms); 0: off. */
  readonly defaultDeadlineMs: number;
  /** Set (every field filled in) when the strategy is `'peak-ewma'`, else `undefined`. */
  readonly peakEwma: Readonly<Required<PeakEwmaTuning>> | undefined;
  readonly addressMode: 'spread' | 'channel';
  readonly resolveIntervalMs: number;
  readonly lookup: AddressLookup;
  /** Set when health checking is on. */
  readonly healthCheck: Readonly<Required<GrpcPoolHealthProbeOptions>> | undefined;
  /** Set when outlier ejection is on. */
  readonly outlierEjection: Readonly<Required<GrpcPoolOutlierEjectionOptions>> | undefined;
  /** Set when autoscaling is on. */
  readonly autoscale: ResolvedAutoscaleOptions | undefined;
  /** 0: no renewal by age. */
  readonly maxConnectionAgeMs: number;
  readonly maxConnectionAgeJitter: number;
  /** The reset budget per member, or `undefined` with `resetBudget: false`. */
  readonly resetBudget: ResolvedResetBudget | undefined;
  readonly warmUp: ((channel: ChannelInterface) => Promise<unknown>) | undefined;
  readonly warmUpTimeoutMs: number;
}

/** Extras of `forRoot` / `forRootAsync` besides the pool options. */
export interface GrpcPoolModuleExtras {
  /** Name of the pool; inject it with `@InjectPool(name)`. Default `'default'`. */
  name?: string;
  /** Register the pool's providers globally. Default `false`. */
  isGlobal?: boolean;
}

/** `resetBudget`, checked: the server's allowance and the tokens left at which to renew. */
export interface ResolvedResetBudget {
  readonly burst: number;
  readonly perSecond: number;
  /** Tokens left at which the member is renewed: `renewBelow x burst`. */
  readonly margin: number;
}
