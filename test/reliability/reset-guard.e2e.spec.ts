import diagnostics from 'node:diagnostics_channel';
import * as grpc from '@grpc/grpc-js';
import { POOL_EVENTS, type RenewalEvent } from 'nestjs-grpc-pool';
import { startPoolApp } from '../support/pool-app.js';
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
  }, 60_000);
});

describe('the pool keeps each connection inside the reset budget (resetBudget, on by default)', () => {
  it('a pool of 2 under 150 expiring calls/s for 40 s fails none of the calls that should succeed, renewing members as their budgets run low', async () => {
    const server = await EchoServer.start();
    const renewals: RenewalEvent[] = [];
    const onRenewal = (event: unknown) => {
      if ((event as RenewalEvent).pool === 'resets') renewals.push(event as RenewalEvent);
    };
    diagnostics.subscribe(POOL_EVENTS.renewalDone, onRenewal);
    const app = await startPoolApp({ name: 'resets', url: server.url, size: 2 });
    try {
      await app.pool.awaitReady(10_000);
      const result = await resetStorm(app.pool.channel, {
        expiringPerSecond: 150,
        goodPerSecond: 20,
        durationMs: 40_000,
      });
      console.log('pool of 2', JSON.stringify(result), `${renewals.length} renewals`);
      expect(result.failures).toEqual([]);
      expect(result.goodFailed).toBe(0);
      expect(result.good).toBeGreaterThan(700);
      expect(renewals.length).toBeGreaterThanOrEqual(1);
      expect(renewals.every((event) => event.reason === 'reset-budget')).toBe(true);
      // Every member now in the pool says how many resets it sent and what is left.
      for (const member of app.pool.members()) {
        expect(member.resetBudgetLeft).toBeGreaterThan(0);
      }
    } finally {
      diagnostics.unsubscribe(POOL_EVENTS.renewalDone, onRenewal);
      await app.close();
      server.stop();
    }
  }, 90_000);
});
