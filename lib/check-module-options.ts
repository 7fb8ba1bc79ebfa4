import { DEFAULT_POOL_NAME } from './grpc-pool.constants.js';
import { PoolConfigError } from './errors/pool.errors.js';
import { describeValue } from './options/option-checker.js';

/**
 * The shape checks `forRoot` / `forRootAsync` need before Nest's `ConfigurableModuleBuilder`
 * sees the options: it reads their keys at once, so a null, a string or a missing factory
 * would end in a bare TypeError or a DI error about a symbol. Shared by `GrpcPoolModule` and
 * `GrpcPeerPoolModule`; the option values are checked later, when the pool is made.
 */

/**
 * Throws {@link PoolConfigError} unless `options` is an object.
 *
 * @param expected what the message asks for, e.g. `an object with at least { url }`
 */
export function checkForRootOptions(options: unknown, expected: string): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new PoolConfigError(
      DEFAULT_POOL_NAME,
      '(options)',
      `is ${describeValue(options)}: expected ${expected}`,
    );
  }
}

/** Throws {@link PoolConfigError} unless `options` is an object with a factory, a class or an existing provider. */
export function checkForRootAsyncOptions(options: unknown): void {
  const given = options as {
    name?: unknown;
    useFactory?: unknown;
    useClass?: unknown;
    useExisting?: unknown;
  } | null;
  if (
    given === null ||
    typeof given !== 'object' ||
    (typeof given.useFactory !== 'function' &&
      given.useClass === undefined &&
      given.useExisting === undefined)
  ) {
    const name = typeof given?.name === 'string' ? given.name : DEFAULT_POOL_NAME;
    throw new PoolConfigError(
      name,
      '(async options)',
      `is ${describeValue(options)}: expected { useFactory }, { useClass } or { useExisting }`,
    );
  }
}
