import { Test } from '@nestjs/testing';
import { GrpcPoolModule, getPoolStateToken, getPoolToken } from 'nestjs-grpc-pool';
import { ECHO_PACKAGE, ECHO_PROTO } from './echo-proto.js';

/**
 * Starts a real Nest application context with one `GrpcPoolModule.forRoot` per entry, each
 * with the echo proto (for `getService()`), and waits until every member of every pool is
 * ready.
 *
 * @param {Array<{ name: string } & Record<string, unknown>>} pools pool options by name
 * @returns {Promise<{ pool(name: string): object, state(name: string): object, close(): Promise<void> }>}
 */
export async function startPools(pools) {
  const app = await Test.createTestingModule({
    imports: pools.map(({ name, ...options }) =>
      GrpcPoolModule.forRoot({ name, package: ECHO_PACKAGE, protoPath: ECHO_PROTO, ...options }),
    ),
  }).compile();
  await app.init();
  const started = {
    pool: (name) => app.get(getPoolToken(name)),
    state: (name) => app.get(getPoolStateToken(name)),
    close: () => app.close(),
  };
  await Promise.all(pools.map(({ name }) => whenAllReady(started.pool(name), started.state(name))));
  return started;
}

/**
 * Resolves once every member of `pool` holds a slot (checked every event-loop turn, so the
 * time it resolves at is within a turn of the last member's READY). Fails after `timeoutMs`.
 */
export async function whenAllReady(pool, state, timeoutMs = 20_000) {
  const size = pool.status().size;
  const deadline = performance.now() + timeoutMs;
  while (state.count < size) {
    if (performance.now() > deadline) {
      throw new Error(
        `pool "${pool.name}": ${state.count} of ${size} members ready after ${timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Starts one pool that needs options a build may not have yet (`autoscale`,
 * `maxConnectionAgeMs`, `resetBudget`): in an application context of its own, so a build
 * without them costs only this arm. Resolves `{ unavailable }` (the options this build does
 * not know) when the pool rejects exactly those as unknown options; any other problem, e.g. a
 * misspelt field inside a known option, is thrown, so a renamed setting cannot pass silently.
 *
 * @param {{ name: string } & Record<string, unknown>} spec the pool's options
 * @param {string[]} newOptions the top-level options the arm is about
 * @returns {Promise<{ app: object, pool: object, state: object } | { unavailable: string }>}
 */
export async function startOptionalPool(spec, newOptions) {
  try {
    const app = await startPools([spec]);
    return { app, pool: app.pool(spec.name), state: app.state(spec.name) };
  } catch (error) {
    const problems = error?.code === 'POOL_CONFIG' ? error.problems : [];
    const unknown = problems.filter(
      (p) => newOptions.includes(p.option) && p.detail.startsWith('is not a pool option'),
    );
    if (problems.length === 0) throw error;
    if (unknown.length < problems.length) return { rejected: error.message };
    return {
      unavailable: `not available in this build (${unknown.map((p) => p.option).join(', ')}: unknown option)`,
    };
  }
}

/**
 * Whether this build knows the pool option `option`: compiles (never starts) a pool with it
 * and looks for the pool's "is not a pool option" answer. Nothing connects.
 */
export async function optionKnown(option, value) {
  try {
    const app = await Test.createTestingModule({
      imports: [GrpcPoolModule.forRoot({ name: 'probe', url: '127.0.0.1:1', [option]: value })],
    }).compile();
    await app.close();
    return true;
  } catch (error) {
    const problems = error?.code === 'POOL_CONFIG' ? error.problems : [];
    return !problems.some(
      (p) => p.option === option && p.detail.startsWith('is not a pool option'),
    );
  }
}
