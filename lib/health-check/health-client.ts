import { PoolConfigError } from '../errors/pool.errors.js';
import {
  credentials,
  makeClientConstructor,
  type ChannelInterface,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import type { MemberChannel } from '../member/member-channel.js';

/** `grpc.health.v1.HealthCheckResponse` as the `grpc-health-check` package loads it (enums as names). */
export interface HealthResponse {
  status: 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
}

/** A `grpc.health.v1.Health` client (the methods this pool calls). */
export interface HealthClient extends Client {
  Check(
    request: { service: string },
    options: { deadline: number },
    callback: (error: ServiceError | null, response?: HealthResponse) => void,
  ): unknown;
  Watch(request: { service: string }): ClientReadableStream<HealthResponse>;
}

/** Makes a health client that rides one member's connection. */
export type HealthClientFactory = (member: MemberChannel) => HealthClient;

/**
 * Loads the maintained `grpc-health-check` package (its proto and service definition) the
 * first time a pool checks health, so a pool that does not pays nothing for it.
 */
export async function loadHealthClientFactory(pool: string): Promise<HealthClientFactory> {
  type HealthPackage = {
    service?: Parameters<typeof makeClientConstructor>[0];
    default?: { service: Parameters<typeof makeClientConstructor>[0] };
  };
  let loaded: HealthPackage;
  try {
    // An optional peer: only pools with `healthCheck` need it.
    loaded = (await import('grpc-health-check')) as unknown as HealthPackage;
  } catch {
    throw new PoolConfigError(
      pool,
      'healthCheck',
      'needs the grpc-health-check package: npm install grpc-health-check',
    );
  }
  const service = loaded.service ?? loaded.default?.service;
  if (service === undefined) {
    throw new Error('grpc-health-check did not export its service definition');
  }
  const Health = makeClientConstructor(service, 'grpc.health.v1.Health');
  return (member) =>
    new Health('health-probe', credentials.createInsecure(), {
      channelOverride: probeChannel(member),
    }) as unknown as HealthClient;
}

/**
 * The member's current grpc-js channel as a `Channel`, for probes: a probe rides the
 * member's own connection (and follows it when the pool gives the member a fresh
 * channel) but bypasses the member's call counting, so probes never show in `inFlight`,
 * `callsStarted`, the strategies' load or the call metrics, and never feed outlier ejection.
 */
function probeChannel(member: MemberChannel): ChannelInterface {
  return {
    createCall: (...args) => member.inner.createCall(...args),
    getTarget: () => member.inner.getTarget(),
    getConnectivityState: (tryToConnect) => member.inner.getConnectivityState(tryToConnect),
    watchConnectivityState: (state, deadline, callback) =>
      member.inner.watchConnectivityState(state, deadline, callback),
    getChannelzRef: () => member.inner.getChannelzRef(),
    // The pool owns the member's channel: a probe client's close() must not close it.
    close: () => {},
  };
}
