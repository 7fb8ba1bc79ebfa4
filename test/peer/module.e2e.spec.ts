import { Injectable } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import {
  getPeerPoolToken,
  GrpcPeerPoolModule,
  InjectPeerPool,
  PoolConfigError,
  PeerPoolService,
} from 'nestjs-grpc-pool';
import { unary } from '../support/echo-server.js';
import { startBackends, startPeerApp, stopBackends, type Backend } from './peer-fixtures.js';

describe('GrpcPeerPoolModule', () => {
  let backends: Backend[];

  beforeAll(async () => {
    backends = await startBackends(1);
  });

  afterAll(() => stopBackends(backends));

  @Injectable()
  class Router {
    constructor(
      @InjectPeerPool() readonly main: PeerPoolService,
      @InjectPeerPool('cluster') readonly cluster: PeerPoolService,
      readonly byClass: PeerPoolService,
    ) {}
  }

  it('forRoot and forRootAsync: named peer pools side by side, the default also by class', async () => {
    const config = ConfigModule.forRoot({
      ignoreEnvFile: true,
      load: [() => ({ PEERS_MAX: 7 })],
    });
    const asyncOptions = {
      imports: [config],
      inject: [ConfigService],
      useFactory: (settings: ConfigService) => ({
        maxConnections: settings.getOrThrow<number>('PEERS_MAX'),
      }),
      isGlobal: true,
    };
    const app = await Test.createTestingModule({
      imports: [
        GrpcPeerPoolModule.forRoot({ isGlobal: true }),
        GrpcPeerPoolModule.forRootAsync({ ...asyncOptions, name: 'cluster' }),
        GrpcPeerPoolModule.forRootAsync({ ...asyncOptions, name: 'twin' }),
      ],
      providers: [Router],
    }).compile();
    await app.init();
    const router = app.get(Router);
    const twin = app.get<PeerPoolService>(getPeerPoolToken('twin'));
    try {
      expect(router.main).toBe(router.byClass);
      expect(router.main).not.toBe(router.cluster);
      expect(router.cluster.name).toBe('cluster');
      expect(twin.name).toBe('twin');
      expect(twin).not.toBe(router.cluster);

      const [a] = backends;
      await unary(await router.main.acquire(a.endpoint), {});
      await unary(await router.cluster.acquire(a.endpoint), {});
      expect(a.proxy.accepted).toBe(2); // separate pools never share a connection
    } finally {
      await app.close();
    }
    expect([router.main.closed, router.cluster.closed, twin.closed]).toEqual([true, true, true]);
  });

  it('perEndpointSize gives a peer its own small pool: that many connections, calls spread', async () => {
    const [a] = backends;
    const before = a.proxy.accepted;
    const { peers, close } = await startPeerApp({ perEndpointSize: 3, strategy: 'round-robin' });
    try {
      const channel = await peers.acquire(a.endpoint);
      const seen = new Set<string>();
      for (let i = 0; i < 50 && seen.size < 3; i++) {
        seen.add((await unary(channel, { message: `${i}` })).peer);
      }
      expect(seen.size).toBe(3);
      expect(a.proxy.accepted - before).toBe(3);
    } finally {
      await close();
    }
  });

  it.each([
    [{ maxConnections: 0 }, 'maxConnections', 'is 0: expected a whole number from 1 to 100000'],
    [{ idleTimeoutMs: 5 }, 'idleTimeoutMs', 'is 5: expected 0 (never close idle peers)'],
    [{ perEndpointSize: 1.5 }, 'perEndpointSize', 'is 1.5: expected a whole number from 1 to 1024'],
    [{ backoff: { maxMs: 0 } }, 'backoff.maxMs', 'is 0: expected a whole number from 1'],
    [{ endpointOptions: 'x' }, 'endpointOptions', 'is "x": expected a function'],
    [{ url: 'x:1' }, 'url', 'is not a peer pool option; known options: strategy'],
  ])(
    'rejects %j with PoolConfigError naming the pool and the option',
    async (options, option, detail) => {
      const compiling = Test.createTestingModule({
        imports: [GrpcPeerPoolModule.forRoot({ name: 'bad', ...(options as object) })],
      }).compile();
      const error = await compiling.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PoolConfigError);
      expect(error).toMatchObject({ pool: 'bad', option });
      expect((error as Error).message).toContain(`gRPC pool "bad": option "${option}" ${detail}`);
    },
  );

  const forRoot = (options: unknown) =>
    GrpcPeerPoolModule.forRoot(options as Parameters<typeof GrpcPeerPoolModule.forRoot>[0]);
  const forRootAsync = (options: unknown) =>
    GrpcPeerPoolModule.forRootAsync(
      options as Parameters<typeof GrpcPeerPoolModule.forRootAsync>[0],
    );

  it.each([
    ['forRoot(null)', () => forRoot(null), '(options)', 'is null: expected an object such as'],
    ['forRoot(undefined)', () => forRoot(undefined), '(options)', 'is undefined: expected an'],
    ['forRoot("127.0.0.1:1")', () => forRoot('127.0.0.1:1'), '(options)', 'is "127.0.0.1:1"'],
    ['forRoot([])', () => forRoot([]), '(options)', 'is an array of 0: expected an object such as'],
    [
      'forRootAsync({})',
      () => forRootAsync({}),
      '(async options)',
      'is an object (Object): expected { useFactory }, { useClass } or { useExisting }',
    ],
    ['forRootAsync(null)', () => forRootAsync(null), '(async options)', 'is null: expected {'],
    [
      'forRootAsync({ name: "cluster", imports: [] })',
      () => forRootAsync({ name: 'cluster', imports: [] }),
      '(async options)',
      'is an object (Object): expected { useFactory }',
    ],
  ])(
    '%s throws PoolConfigError naming what is wrong, not a TypeError',
    (_label, make, option, detail) => {
      let error: unknown;
      try {
        make();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(PoolConfigError);
      expect(error).toMatchObject({ code: 'POOL_CONFIG', option });
      expect((error as Error).message).toContain(`option "${option}" ${detail}`);
    },
  );

  it('forRootAsync names the peer pool it was given; forRoot({}) is the defaults', async () => {
    expect(() => forRootAsync({ name: 'cluster' })).toThrow(
      /^gRPC pool "cluster": option "\(async options\)" is an object/,
    );
    const { peers, close } = await startPeerApp({});
    await close();
    expect(peers.closed).toBe(true);
  });
});
