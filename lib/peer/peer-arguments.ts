import type { ChannelInterface as Channel } from '@grpc/grpc-js';
import { PoolArgumentError } from '../errors/pool.errors.js';
import { describeValue } from '../options/option-checker.js';
import { targetProblem } from '../options/resolve-targets.js';

/**
 * Throws {@link PoolArgumentError} unless `endpoint` is a target grpc-js can dial (the
 * main pool's own check of `url`): the key every peer pool method takes.
 */
export function checkEndpoint(pool: string, method: string, endpoint: unknown): string {
  const problem = targetProblem(endpoint);
  if (problem !== undefined) {
    throw new PoolArgumentError(pool, method, `got ${describeValue(endpoint)}: ${problem}`);
  }
  return endpoint as string;
}

/** Throws {@link PoolArgumentError} unless `channel` looks like a grpc-js `Channel`. */
export function checkChannel(pool: string, method: string, channel: unknown): Channel {
  const candidate = channel as Partial<Channel> | null | undefined;
  if (
    typeof candidate?.createCall !== 'function' ||
    typeof candidate.getConnectivityState !== 'function' ||
    typeof candidate.close !== 'function'
  ) {
    throw new PoolArgumentError(
      pool,
      method,
      `got ${describeValue(channel)} as channel: expected a grpc-js Channel, e.g. new Channel(target, credentials, {})`,
    );
  }
  return channel as Channel;
}
