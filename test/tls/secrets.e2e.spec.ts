import { inspect } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  GrpcPoolModule,
  getPoolToken,
  PoolConfigError,
  type GrpcPoolOptions,
  type PoolService,
} from 'nestjs-grpc-pool';
import { GrpcPoolHealthIndicator, GrpcPoolHealthModule } from 'nestjs-grpc-pool/health';
import { createTestCertificates, findSecrets, type TestCertificates } from '../support/certs.js';
import { EchoServer, waitFor } from '../support/echo-server.js';
import { CapturingLogger } from '../reliability/capturing-logger.js';

/** Everything an operator could see of a pool, as text. */
function everythingShown(pool: PoolService, health: GrpcPoolHealthIndicator): string {
  return [
    JSON.stringify(pool.status()),
    inspect(pool.status(), { depth: 10 }),
    JSON.stringify(pool.members()),
    JSON.stringify(health.isHealthy('grpc', { pool: pool.name })),
    JSON.stringify(health.isHealthy('grpc', { pool: pool.name, minReady: 99 })),
  ].join('\n');
}

describe('no key or certificate material in status, health, logs or errors', () => {
  let certs: TestCertificates;
  let server: EchoServer;
  let module: TestingModule | undefined;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    certs = await createTestCertificates();
    server = await EchoServer.start({
      credentials: grpc.ServerCredentials.createSsl(
        certs.ca,
        [{ private_key: certs.serverKey, cert_chain: certs.serverCert }],
        true,
      ),
    });
  });

  afterEach(async () => {
    await module?.close();
    module = undefined;
  });

  afterAll(() => {
    server.stop();
  });

  it('the fragment list really finds PEM material (the checks below are not vacuous)', () => {
    expect(certs.secretFragments.length).toBeGreaterThan(20);
    expect(findSecrets(certs.clientKey.toString(), certs)).not.toEqual([]);
    expect(findSecrets(certs.ca.toString('base64'), certs)).toEqual([]);
    expect(findSecrets(certs.serverCert.toString().split('\n')[3], certs)).toHaveLength(1);
  });

  it('a working mTLS pool and two failing ones show no secret anywhere, logs included', async () => {
    const withKey = () => grpc.credentials.createSsl(certs.ca, certs.clientKey, certs.clientCert);
    const pools: Array<GrpcPoolOptions & { name: string }> = [
      { name: 'good', url: server.url, credentials: withKey() },
      // Trusts the wrong CA, and carries a client key all the same.
      {
        name: 'wrong-ca',
        url: server.url,
        credentials: grpc.credentials.createSsl(certs.otherCa, certs.clientKey, certs.clientCert),
      },
      // No client certificate for a server that requires one.
      {
        name: 'no-client-cert',
        url: server.url,
        credentials: grpc.credentials.createSsl(certs.ca),
      },
    ];
    module = await Test.createTestingModule({
      imports: [
        ...pools.map((options) =>
          GrpcPoolModule.forRoot({
            size: 2,
            backoff: { initialMs: 100, maxMs: 200 },
            readyTimeoutMs: 500,
            onReadyTimeout: 'warn',
            drainTimeoutMs: 100,
            ...options,
          }),
        ),
        GrpcPoolHealthModule,
      ],
    })
      .setLogger(logger)
      .compile();
    await module.init();
    const health = module.get(GrpcPoolHealthIndicator);
    const get = (name: string) => module!.get<PoolService>(getPoolToken(name));
    await waitFor(() => get('good').status().ready === 2, 'the good pool ready');

    const errors: string[] = [];
    for (const name of ['wrong-ca', 'no-client-cert']) {
      const error = await get(name)
        .awaitReady(300)
        .catch((caught: Error) => caught);
      expect(error).toBeInstanceOf(Error);
      errors.push(inspect(error), String((error as Error).stack));
    }

    const shown = [...pools.map(({ name }) => everythingShown(get(name), health)), ...errors];
    await module.close();
    module = undefined;
    shown.push(logger.text);

    // The failures are in there, with their reasons...
    expect(logger.text).toMatch(
      /"wrong-ca".*(unable to verify the first certificate|self-signed certificate in certificate chain)/,
    );
    expect(shown.join('\n')).toMatch(/alert certificate required/);
    // ...and not a byte of a key or a certificate.
    for (const text of shown) expect(findSecrets(text, certs)).toEqual([]);
  });

  it.each([
    ['a key Buffer', () => certs.clientKey],
    ['a PEM string', () => certs.clientKey.toString()],
    ['a key-cert object', () => ({ private_key: certs.clientKey, cert_chain: certs.clientCert })],
    ['an array of CAs', () => [certs.ca]],
  ])(
    'credentials given as %s: PoolConfigError names the option, shows no key',
    async (_what, value) => {
      const built = Test.createTestingModule({
        imports: [
          GrpcPoolModule.forRoot({
            url: server.url,
            credentials: value() as unknown as grpc.ChannelCredentials,
          }),
        ],
      })
        .setLogger(logger)
        .compile();
      const error = await built
        .then((compiled) => compiled.init().then(() => compiled.close()))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PoolConfigError);
      const config = error as PoolConfigError;
      expect(config.option).toBe('credentials');
      expect(config.message).toMatch(/expected grpc-js ChannelCredentials/);
      expect(findSecrets(`${config.message}\n${inspect(config)}\n${logger.text}`, certs)).toEqual(
        [],
      );
    },
  );
});
