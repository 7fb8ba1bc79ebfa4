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
