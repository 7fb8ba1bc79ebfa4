import { EchoServer, unary, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { TcpProxy } from '../support/tcp-proxy.js';

describe('pool members are distinct connections', () => {
  let server: EchoServer;
  let proxy: TcpProxy;
  let pool: PoolApp | undefined;

  beforeEach(async () => {
    server = await EchoServer.start();
    proxy = await new TcpProxy(server.port).start();
  });

  afterEach(async () => {
    await pool?.close();
    await proxy.stop();
    server.stop();
  });

  it.each([1, 4, 8])(
    '%i members open as many TCP connections and round-robin spreads calls evenly',
    async (size) => {
      pool = await startPoolApp({ url: proxy.url, size });
      await pool.pool.awaitReady(5_000);
      await waitFor(() => pool!.pool.status().ready === size, `${size} ready members`);

      for (let i = 0; i < size * 10; i++) {
        await unary(pool.pool.getChannel(), { message: `call ${i}` });
      }

      expect(proxy.accepted).toBe(size);
      expect(server.peers).toHaveLength(size);
      expect([...server.callsByPeer.values()]).toEqual(Array(size).fill(10));
      expect(pool.pool.status().members.map((member) => member.callsStarted)).toEqual(
        Array(size).fill(10),
      );
    },
  );
});
