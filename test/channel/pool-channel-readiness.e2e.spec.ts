import { connectivityState as State } from '@grpc/grpc-js';
import type { PoolService } from 'nestjs-grpc-pool';
import { EchoServer } from '../support/echo-server.js';
import { startPoolApp } from '../support/pool-app.js';

/** Follows `pool.channel` until it reports `wanted`; at that moment, `probe` runs. */
function whenReported<T>(
  pool: PoolService,
  wanted: (state: State) => boolean,
  probe: () => T,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const follow = (): void => {
      const state = pool.channel.getConnectivityState(false);
      if (wanted(state)) {
        resolve(probe());
        return;
      }
      try {
        pool.channel.watchConnectivityState(state, Date.now() + 20_000, (error) =>
          error ? reject(error) : follow(),
        );
      } catch (error) {
        reject(error as Error);
      }
    };
    follow();
  });
}

/** What `pool.channel` reports is true at the moment a watcher hears it. */
describe('pool.channel connectivity (regression: READY before a member could be picked)', () => {
  it('a watcher told READY gets a member from getChannel() in the same callback, 20 fresh pools out of 20', async () => {
    const server = await EchoServer.start();
    try {
      const picked: boolean[] = [];
      for (let i = 0; i < 20; i++) {
        const app = await startPoolApp({ url: server.url, size: 2 });
        try {
          picked.push(
            await whenReported(
              app.pool,
              (state) => state === State.READY,
              () => app.pool.tryGetChannel() !== undefined,
            ),
          );
        } finally {
          await app.close();
        }
      }
      expect(picked).toEqual(new Array(20).fill(true));
    } finally {
      server.stop();
    }
  });

  it('a watcher told the pool left READY finds no member left in the table', async () => {
    const server = await EchoServer.start();
    const app = await startPoolApp({ url: server.url, size: 3 });
    try {
      await app.pool.awaitReady(10_000);
      const leaving = whenReported(
        app.pool,
        (state) => state !== State.READY,
        () => ({ member: app.pool.tryGetChannel(), ready: app.pool.status().ready }),
      );
      server.stop();
      await expect(leaving).resolves.toEqual({ member: undefined, ready: 0 });
    } finally {
      await app.close();
    }
  });
});

describe('pool.channel connectivity on close()', () => {
  it('reports SHUTDOWN in the same tick as close(), not after the first member leaves', async () => {
    const server = await EchoServer.start();
    const app = await startPoolApp({ url: server.url, size: 2 });
    try {
      await app.pool.awaitReady(10_000);
      expect(app.pool.channel.getConnectivityState(false)).toBe(State.READY);
      const closing = app.pool.close();
      expect(app.pool.channel.getConnectivityState(false)).toBe(State.SHUTDOWN);
      await closing;
    } finally {
      await app.close();
      server.stop();
    }
  });
});
