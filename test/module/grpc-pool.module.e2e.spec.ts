import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import {
  getPoolStateToken,
  getPoolToken,
  GrpcPoolModule,
  InjectPool,
  PoolConfigError,
  PoolService,
  PoolStateService,
  type GrpcPoolOptions,
} from 'nestjs-grpc-pool';
import { EchoServer, unary, waitFor } from '../support/echo-server.js';

describe('GrpcPoolModule', () => {
  let main: EchoServer;
  let billing: EchoServer;

  beforeAll(async () => {
    [main, billing] = await Promise.all([EchoServer.start(), EchoServer.start()]);
  });

  afterAll(() => {
    main.stop();
    billing.stop();
  });

  @Injectable()
  class Consumer {
    constructor(
      @InjectPool() readonly main: PoolService,
      @InjectPool('billing') readonly billing: PoolService,
      readonly byClass: PoolService,
    ) {}
  }

  it('keeps two named pools fully separate, each injectable by name; the default also as PoolService', async () => {
    const app = await Test.createTestingModule({
      imports: [
        GrpcPoolModule.forRoot({ url: main.url, size: 2, isGlobal: true }),
        GrpcPoolModule.forRoot({
          name: 'billing',
          url: billing.url,
          size: 3,
          strategy: 'least-loaded',
          isGlobal: true,
        }),
      ],
      providers: [Consumer],
    }).compile();
    await app.init();
    const consumer = app.get(Consumer);
    try {
      expect(consumer.main).toBe(consumer.byClass);
      expect(consumer.main).not.toBe(consumer.billing);
      expect(consumer.main.name).toBe('default');
      expect(consumer.billing.name).toBe('billing');
      expect(app.get(getPoolStateToken('billing'))).toBeInstanceOf(PoolStateService);
      expect(app.get(getPoolStateToken('billing'))).not.toBe(app.get(getPoolStateToken()));
      await waitFor(
        () => consumer.main.status().ready === 2 && consumer.billing.status().ready === 3,
        'both pools ready',
      );
      expect(consumer.billing.status()).toMatchObject({ size: 3, strategy: 'least-loaded' });

      await unary(consumer.main.getChannel(), { message: 'm' });
      await unary(consumer.billing.getChannel(), { message: 'b' });
      expect(main.peers.length).toBeGreaterThan(0);
      expect(billing.peers.length).toBeGreaterThan(0);
      expect(main.peers.some((peer) => billing.peers.includes(peer))).toBe(false);
    } finally {
      await app.close();
    }
    expect(consumer.main.status().closed).toBe(true);
    expect(consumer.billing.status().closed).toBe(true);
  });

  it('forRootAsync reads the URL from ConfigService; two identical calls with different names stay two pools', async () => {
    const config = ConfigModule.forRoot({
      ignoreEnvFile: true,
      load: [() => ({ ECHO_URL: main.url })],
    });
    const useFactory = (service: ConfigService): GrpcPoolOptions => ({
      url: service.getOrThrow<string>('ECHO_URL'),
      size: 2,
    });
    const app = await Test.createTestingModule({
      imports: [
        GrpcPoolModule.forRootAsync({ imports: [config], inject: [ConfigService], useFactory }),
        GrpcPoolModule.forRootAsync({
          name: 'second',
          imports: [config],
          inject: [ConfigService],
          useFactory,
        }),
      ],
    }).compile();
    await app.init();
    try {
      const first = app.get<PoolService>(getPoolToken());
      const second = app.get<PoolService>(getPoolToken('second'));
      expect(first).not.toBe(second);
      await Promise.all([first.awaitReady(5_000), second.awaitReady(5_000)]);
      expect(first.status()).toMatchObject({ name: 'default', size: 2 });
      expect(second.status()).toMatchObject({ name: 'second', size: 2 });
      expect(
        [...first.status().members, ...second.status().members].map((member) => member.target),
      ).toEqual(Array(4).fill(main.url));
    } finally {
      await app.close();
    }
  });

  it('forRootAsync with useClass and with useExisting', async () => {
    @Injectable()
    class PoolConfig {
      create(): GrpcPoolOptions {
        return { url: main.url, size: 1, strategy: 'power-of-two' };
      }
    }
    @Module({ providers: [PoolConfig], exports: [PoolConfig] })
    class PoolConfigModule {}

    const app = await Test.createTestingModule({
      imports: [
        GrpcPoolModule.forRootAsync({ name: 'by-class', useClass: PoolConfig }),
        GrpcPoolModule.forRootAsync({
          name: 'by-existing',
          imports: [PoolConfigModule],
          useExisting: PoolConfig,
        }),
      ],
    }).compile();
    await app.init();
    try {
      for (const name of ['by-class', 'by-existing']) {
        const pool = app.get<PoolService>(getPoolToken(name));
        expect(pool.status()).toMatchObject({ name, size: 1, strategy: 'power-of-two' });
      }
    } finally {
      await app.close();
    }
  });

  it('fails at module init with PoolConfigError naming the pool and the option', async () => {
    const building = Test.createTestingModule({
      imports: [GrpcPoolModule.forRoot({ name: 'broken', url: main.url, size: 0 })],
    }).compile();
    await expect(building).rejects.toThrow(PoolConfigError);
    await expect(
      Test.createTestingModule({
        imports: [GrpcPoolModule.forRoot({ name: 'broken', url: main.url, size: 0 })],
      }).compile(),
    ).rejects.toThrow(
      'gRPC pool "broken": option "size" is 0: expected a whole number from 1 to 1024',
    );
    expect(() => GrpcPoolModule.forRoot({ name: '', url: main.url })).toThrow(
      /option "name" must be a non-empty string/,
    );
  });

  it('an unknown pool name in @InjectPool fails with a message naming the missing token', async () => {
    @Injectable()
    class NeedsMissing {
      constructor(@InjectPool('missing') readonly pool: PoolService) {}
    }
    await expect(
      Test.createTestingModule({
        imports: [GrpcPoolModule.forRoot({ url: main.url })],
        providers: [NeedsMissing],
      }).compile(),
    ).rejects.toThrow(/nestjs-grpc-pool:missing:pool/);
  });
});
