import type { ChannelOptions } from '@grpc/grpc-js';
import { PoolConfigError } from '../errors/pool.errors.js';
import { checkEndpoint } from './peer-arguments.js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import { describeValue, OptionChecker } from '../options/option-checker.js';
import { resolvePoolOptions } from '../options/resolve-pool-options.js';
import type { ResolvedPeerPoolOptions } from './peer-pool-options.interface.js';

/**
 * The options of the small pool that connects to one endpoint: the peer pool's connection
 * options, then what `endpointOptions(endpoint)` returns, checked by `resolvePoolOptions`.
 * The connection is named `<pool>/<endpoint>` in its logs and errors.
 *
 * @throws PoolArgumentError when `endpoint` is not a target grpc-js can dial (checkEndpoint)
 * @throws PoolConfigError when `endpointOptions` returns something unusable
 */
export function resolveEndpointOptions(
  peers: ResolvedPeerPoolOptions,
  endpoint: string,
): ResolvedPoolOptions {
  const method = 'acquire(endpoint)';
  checkEndpoint(peers.name, method, endpoint);
  const own: unknown = peers.endpointOptions?.(endpoint);
  if (own !== undefined && (own === null || typeof own !== 'object' || Array.isArray(own))) {
    throw new PoolConfigError(
      peers.name,
      'endpointOptions',
      `returned ${describeValue(own)} for "${endpoint}": expected undefined or { credentials?, channelOptions? }`,
    );
  }
  const { credentials, channelOptions, ...rest } = (own ?? {}) as {
    credentials?: unknown;
    channelOptions?: ChannelOptions;
  };
  const extra = Object.keys(rest);
  if (extra.length > 0) {
    throw new PoolConfigError(
      peers.name,
      'endpointOptions',
      `returned unknown option(s) ${extra.join(', ')} for "${endpoint}": only credentials and channelOptions are per endpoint`,
    );
  }
  const name = `${peers.name}/${endpoint}`;
  const ownArgs = new OptionChecker(name).record('channelOptions', channelOptions);
  // The endpoint passed checkEndpoint: resolvePoolOptions can only refuse the peer pool's own options.
  return resolvePoolOptions(name, {
    ...peers.connection,
    url: endpoint,
    ...(credentials !== undefined && { credentials }),
    channelOptions: { ...peers.connection.channelOptions, ...ownArgs },
  });
}
