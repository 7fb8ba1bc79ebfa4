import * as grpc from '@grpc/grpc-js';
import { EchoServer } from '../support/echo-server.js';
import { resetStorm } from '../support/reset-storm.js';

/**
 * Node's HTTP/2 server guards against rapid reset (CVE-2023-44487): 1,000 RST_STREAM of
 * burst per connection, refilled at 33/s; past it, it ends the session and every call on it.
 */
describe('the server rapid-reset guard', () => {
  it('control: one plain grpc-js channel with 150 expiring calls/s loses calls that should succeed', async () => {
    const server = await EchoServer.start();
    const channel = new grpc.Channel(server.url, grpc.credentials.createInsecure(), {});
    try {
      const result = await resetStorm(channel, {
        expiringPerSecond: 150,
        goodPerSecond: 20,
        durationMs: 20_000,
      });
      console.log('plain channel', JSON.stringify(result));
      expect(result.goodFailed).toBeGreaterThan(0);
      expect(result.failures.join('\n')).toMatch(/RST_STREAM|Session closed|INTERNAL/);
    } finally {
      channel.close();
      server.stop();
    }
  });
});
