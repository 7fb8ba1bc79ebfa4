import * as grpc from '@grpc/grpc-js';
import { PoolTimeoutError, type GrpcPoolOptions, type PoolService } from 'nestjs-grpc-pool';
import { createTestCertificates, type TestCertificates } from '../support/certs.js';
import { EchoServer, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { describeFailures, echoBurst } from '../reliability/calls.js';

describe('TLS and mTLS', () => {
  let certs: TestCertificates;
  let tlsServer: EchoServer;
  let mtlsServer: EchoServer;
  const apps: PoolApp[] = [];
  const start = async (options: GrpcPoolOptions) => {
    const app = await startPoolApp({
      size: 3,
      backoff: { initialMs: 100, maxMs: 200 },
      ...options,
    });
    apps.push(app);
    return app.pool;
  };
  /** What `awaitReady` rejected with. */
  const notReady = async (pool: PoolService, timeoutMs = 600) => {
    const error = await pool.awaitReady(timeoutMs).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PoolTimeoutError);
    return error as PoolTimeoutError;
  };

  beforeAll(async () => {
    certs = await createTestCertificates();
    const keyCerts = [{ private_key: certs.serverKey, cert_chain: certs.serverCert }];
    tlsServer = await EchoServer.start({
      credentials: grpc.ServerCredentials.createSsl(null, keyCerts, false),
    });
    mtlsServer = await EchoServer.start({
      credentials: grpc.ServerCredentials.createSsl(certs.ca, keyCerts, true),
    });
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  afterAll(() => {
    tlsServer.stop();
    mtlsServer.stop();
  });

  it('a pool works over TLS, one TLS connection per member, by IP and by host name', async () => {
    for (const url of [tlsServer.url, `localhost:${tlsServer.port}`]) {
      const pool = await start({ url, credentials: grpc.credentials.createSsl(certs.ca) });
      await waitFor(() => pool.status().ready === 3, 'three members over TLS');
      const outcomes = await echoBurst(pool.channel, 30, { message: 'tls' }, { timeoutMs: 5_000 });
      expect(describeFailures(outcomes)).toEqual([]);
      expect(new Set(outcomes.map((outcome) => outcome.peer)).size).toBe(3);
    }
  });

  it('a pool works over mTLS with a client certificate', async () => {
    const pool = await start({
      url: mtlsServer.url,
      credentials: grpc.credentials.createSsl(certs.ca, certs.clientKey, certs.clientCert),
    });
    await waitFor(() => pool.status().ready === 3, 'three members over mTLS');
    const outcomes = await echoBurst(pool.channel, 30, { message: 'mtls' }, { timeoutMs: 5_000 });
    expect(describeFailures(outcomes)).toEqual([]);
    expect(new Set(outcomes.map((outcome) => outcome.peer)).size).toBe(3);
  });

  it('a server certificate from a CA the pool does not trust: awaitReady says it cannot verify it', async () => {
    const pool = await start({
      url: tlsServer.url,
      credentials: grpc.credentials.createSsl(certs.otherCa),
    });
    const error = await notReady(pool);
    expect(error.message).toContain(`${tlsServer.url} (TRANSIENT_FAILURE`);
    expect(error.message).toMatch(
      /unable to verify the first certificate|self-signed certificate in certificate chain/,
    );
    expect(pool.status().ready).toBe(0);
  });

  it("a server certificate for another name: awaitReady says the names don't match", async () => {
    const pool = await start({
      url: tlsServer.url,
      credentials: grpc.credentials.createSsl(certs.ca),
      channelOptions: { 'grpc.ssl_target_name_override': 'billing.internal' },
    });
    const error = await notReady(pool);
    expect(error.message).toMatch(
      /does not match certificate's altnames: Host: billing\.internal\. is not in the cert's altnames: IP Address:127\.0\.0\.1, DNS:localhost/,
    );
  });

  it('no client certificate for an mTLS server: awaitReady gives the TLS alert, cleanly', async () => {
    const pool = await start({
      url: mtlsServer.url,
      credentials: grpc.credentials.createSsl(certs.ca),
    });
    const error = await notReady(pool);
    expect(error.message).toContain(`${mtlsServer.url} (TRANSIENT_FAILURE, last error: `);
    expect(error.message).toMatch(/alert certificate required/);
    // The member's last error is the TLS error itself: one line, not grpc-js's whole status
    // text ("No connection established. Last error: … Resolution note: ") with timestamps.
    for (const member of pool.status().members) {
      expect(member.lastError).toMatch(/alert certificate required/);
      expect(member.lastError).not.toMatch(/No connection established|Resolution note|\n/);
      expect(member.lastError).not.toMatch(/\(\d{4}-\d\d-\d\dT[\d:.]+Z\)/);
    }
    // Both members failed the same way: the message says it once.
    expect(error.targets[0].match(/alert certificate required/g)).toHaveLength(1);
  });

  it('a plaintext pool against a TLS server never becomes ready', async () => {
    const pool = await start({ url: tlsServer.url });
    const error = await notReady(pool, 400);
    expect(error.message).toContain(`${tlsServer.url} (TRANSIENT_FAILURE`);
  });
});
