export { GrpcPoolModule } from './grpc-pool.module.js';
export { DEFAULT_POOL_NAME, MAX_POOL_SIZE } from './grpc-pool.constants.js';
export {
  getPoolOptionsToken,
  getPoolStateToken,
  getPoolToken,
} from './tokens/get-pool-token.util.js';
export { InjectPool } from './tokens/inject-pool.decorator.js';
export { PoolService } from './pool/pool.service.js';
export { PoolStateService } from './state/pool-state.service.js';
export type { GrpcClientConstructor } from './clients/pool-clients.js';
export {
  GrpcToHttpExceptionFilter,
  grpcStatusToHttp,
  grpcToHttpException,
} from './http/grpc-to-http.filter.js';
export {
  PoolArgumentError,
  PoolClosedError,
  PoolConfigError,
  PoolConnectError,
  PoolError,
  PoolEvictedError,
  PoolInvalidatedError,
  PoolNotReadyError,
  PoolTimeoutError,
  type PoolConfigProblem,
  type PoolErrorCode,
} from './errors/pool.errors.js';
export type {
  GrpcPoolAutoscaleOptions,
  GrpcPoolBackoffOptions,
  GrpcPoolHealthProbeOptions,
  GrpcPoolResetBudgetOptions,
  GrpcPoolKeepaliveOptions,
  GrpcPoolOutlierEjectionOptions,
  GrpcPoolModuleExtras,
  GrpcPoolOptions,
  PoolProtoOptions,
  ResolvedAutoscaleOptions,
  ResolvedPoolOptions,
} from './interfaces/grpc-pool-options.interface.js';
export type { AddressLookup, LookupAddress } from './options/resolve-addresses.js';
export type { ManualScaleOptions } from './pool/pool-scaler.js';
export type {
  AutoscaleStatus,
  MemberOutInfo,
  MemberOutReason,
  MemberLifecycle,
  MemberState,
  RenewalStatus,
  PoolStatus,
  PoolMemberInfo,
  PoolTargetCalls,
} from './interfaces/pool-status.interface.js';
export type {
  PoolMemberLoad,
  PoolStrategy,
  PoolStrategyName,
} from './interfaces/pool-strategy.interface.js';
export { LeastLoadedStrategy } from './strategies/least-loaded.strategy.js';
export { PowerOfTwoStrategy } from './strategies/power-of-two.strategy.js';
export { RandomStrategy } from './strategies/random.strategy.js';
export { RoundRobinStrategy } from './strategies/round-robin.strategy.js';
export {
  POOL_EVENTS,
  type AutoscaleDecisionEvent,
  type AutoscaleThrashEvent,
  type DrainEndEvent,
  type DrainStartEvent,
  type HealthCheckOffEvent,
  type MemberBackEvent,
  type MemberHealthEvent,
  type MemberOutEvent,
  type MemberConnectedEvent,
  type MemberConnectionFailedEvent,
  type MemberDisconnectedEvent,
  type MemberReconnectEvent,
  type PoolEventBase,
  type PoolInitEvent,
  type AddressesChangedEvent,
  type AddressResolveFailedEvent,
  type MemberMovedEvent,
  type PoolStatusEvent,
  type RenewalEvent,
  type ResetBudgetExceededEvent,
  type RenewalReason,
  type ScaleEvent,
} from './telemetry/pool-events.js';
export {
  GrpcPeerPoolModule,
  InjectPeerPool,
  PEER_POOL_DEFAULTS,
  PeerPoolService,
  getPeerPoolToken,
  type GrpcPeerPoolOptions,
  type PeerEndpointOptions,
  type PeerPoolStats,
  type ResolvedPeerPoolOptions,
} from './peer/index.js';
