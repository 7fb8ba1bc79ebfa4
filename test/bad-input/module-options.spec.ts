import { Injectable, type DynamicModule, type Provider } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { dirname, join } from 'node:path';
import {
  GrpcPoolModule,
  InjectPool,
  PoolConfigError,
  PoolService,
  type GrpcPoolModuleExtras,
  type GrpcPoolOptions,
} from 'nestjs-grpc-pool';
import { ECHO_PROTO } from '../support/echo-server.js';
import { errorProblems, literal, titleOf, type Outcome } from './expect-error.js';

/**
 * Bad module configuration through a real Nest testing module: `forRoot` / `forRootAsync`
 * with bad options fail with `PoolConfigError` naming the pool and the option, at the stage
 * the docs promise (forRoot itself for the module's shape, compile for option values, init
 * for the proto files); `@InjectPool` of a pool that does not exist fails in Nest's DI
 * naming the missing token. Nothing ends in a bare TypeError.
 */
type Stage = 'forRoot' | 'compile' | 'init';

interface Built {
  readonly stage: Stage | 'none';
  readonly outcome: Outcome;
}

/** forRoot → compile → init → close, reporting the stage that failed first. */
async function build(makeModule: () => DynamicModule, providers: Provider[] = []): Promise<Built> {
  let stage: Stage = 'forRoot';
  let moduleRef: TestingModule | undefined;
  try {
    const imports = [makeModule()];
    stage = 'compile';
    moduleRef = await Test.createTestingModule({ imports, providers }).compile();
    stage = 'init';
    await moduleRef.init();
    return { stage: 'none', outcome: { how: 'resolved', value: moduleRef } };
  } catch (error) {
    return { stage, outcome: { how: stage === 'forRoot' ? 'threw' : 'rejected', error } };
  } finally {
    await moduleRef?.close().catch(() => undefined);
  }
}

/** Nothing listens here: no row gets as far as connecting. */
const TARGET = '127.0.0.1:1';
const NAME = 'cfg';
const TARGETS = 'expected "host:port", "dns:///host:port" or "unix:///path"';
const whole = (shown: string, min: number | string, max: number | string) =>
  `is ${shown}: expected a whole number from ${min} to ${max}`;

interface OptionRow {
  readonly label: string;
  readonly options: unknown;
  /** The option the error names (`PoolConfigError.option`). */
  readonly option: string;
  /** The message after `gRPC pool "cfg": option "<option>" `, as a regex source. */
  readonly detail: string;
  readonly stage: Stage;
}

/** A value as a row's title shows it: plain objects as JSON, the rest as `titleOf` does. */
const labelOf = (value: unknown): string =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (JSON.stringify(value) ?? titleOf(value))
    : titleOf(value);

const row = (
  option: string,
  value: unknown,
  detail: string,
  stage: Stage = 'compile',
  extra: Record<string, unknown> = {},
): OptionRow => {
  const key = option.split(/[.[]/)[0];
  return {
    label: `${option}: ${labelOf(value)}`,
    options: { url: TARGET, ...extra, [key]: value },
    option,
    detail,
    stage,
  };
};

const OPTION_ROWS: OptionRow[] = [
  row('url', undefined, `^is undefined: ${literal(TARGETS)}$`),
  row('url', '', `^is "": ${literal(TARGETS)}$`),
  row('url', 'not a host', `^is "not a host": ${literal(TARGETS)}$`),
  row('url', 'foo://x', `^is "foo://x": unknown scheme "foo:"; ${literal(TARGETS)}$`),
  row('url', 'host:0', '^is "host:0": port must be from 1 to 65535'),
  row('url', 'host:70000', '^is "host:70000": port must be from 1 to 65535'),
  row('url', 'host:', '^is "host:": the port is missing'),
  row('url', 42, `^is 42: ${literal(TARGETS)}$`),
  row('url', [], '^is an empty list: give at least one target'),
  row('url[1]', ['ok:1', 'bad host:2'], '^is "bad host:2": expected "host:port"'),
  row('size', 0, whole('0', 1, 1024)),
  row('size', -1, whole('-1', 1, 1024)),
  row('size', 1.5, whole('1\\.5', 1, 1024)),
  row('size', NaN, whole('NaN', 1, 1024)),
  row('size', Infinity, whole('Infinity', 1, 1024)),
  row('size', 1025, whole('1025', 1, 1024)),
  row('size', '4', whole('"4"', 1, 1024)),
  row('size', 4n, whole('4n', 1, 1024)),
  row(
    'strategy',
    'fastest',
    '^is "fastest": expected one of round-robin, random, power-of-two, least-loaded, peak-ewma or an object',
  ),
  row('strategy', {}, '^is an object \\(Object\\): expected one of round-robin'),
  row(
    'strategy',
    { name: 'x' },
    '^is an object \\(Object\\): expected one of .*pick\\(members, count\\)',
  ),
  row('strategy', 42, '^is 42: expected one of round-robin'),
  row('credentials', {}, '^is an object \\(Object\\): expected grpc-js ChannelCredentials'),
  row('credentials', 'insecure', '^is "insecure": expected grpc-js ChannelCredentials'),
  row('channelOptions', 'x', '^is "x": expected a plain object$'),
  row('channelOptions.a', { a: true }, '^is true: expected a string, a number or an object'),
  row('keepalive', 'x', '^is "x": expected a plain object$'),
  row('keepalive.keepaliveTimeMs', { keepaliveTimeMs: -1 }, whole('-1', 0, 2147483647)),
  row('keepalive.unknownKey', { unknownKey: 1 }, '^is 1: expected one of keepaliveTimeMs, '),
  row('backoff.initialMs', { initialMs: 0 }, whole('0', 1, 2147483647)),
  row('backoff.maxMs', { initialMs: 10, maxMs: 5 }, whole('5', 10, 2147483647)),
  row('backoff.other', { other: 1 }, '^is 1: expected one of initialMs, maxMs$'),
  row('readyTimeoutMs', -1, whole('-1', 0, 2147483647)),
  row('readyTimeoutMs', 2 ** 31, whole('2147483648', 0, 2147483647)),
  row('onReadyTimeout', 'explode', `^is "explode": expected 'fail' or 'warn'$`),
  row('drainTimeoutMs', NaN, whole('NaN', 0, 2147483647)),
  row('connectTimeoutMs', 0, whole('0', 1, 2147483647)),
  row('minReady', 0, whole('0', 1, 4)),
  row('minReady', 5, whole('5', 1, 4)),
  row('sise', 4, '^is not a pool option; did you mean "size"\\? known options: url, size, '),
  row('url', 'localhost', '^is "localhost": no port: give host:port \\(without TLS credentials'),
  row(
    'strategy',
    'round_robin',
    '^is "round_robin": expected one of .*; did you mean "round-robin"\\?$',
  ),
  row('interceptors[0]', [42], '^is 42: expected a grpc-js interceptor'),
  row('serviceConfig', 'x', '^is "x": expected a grpc-js service config object'),
  row('defaultDeadlineMs', -1, whole('-1', 0, 2147483647)),
  row('package', 42, '^is 42: expected a proto package name', 'compile', { protoPath: ECHO_PROTO }),
  row('protoPath', undefined, '^is undefined: expected the path of a \\.proto file', 'compile', {
    package: 'echo',
  }),
  row('protoPath', ECHO_PROTO, '^is ".*echo\\.proto": expected to come with "package"'),
  row('loader', 'x', '^is "x": expected a plain object$', 'compile', {
    package: 'echo',
    protoPath: ECHO_PROTO,
  }),
  row(
    'protoPath',
    join(dirname(ECHO_PROTO), 'no-such.proto'),
    '^could not be loaded as package "echo": .*not found',
    'init',
    { package: 'echo' },
  ),
  row('protoPath', ECHO_PROTO, '^could not be loaded as package "nope": ', 'init', {
    package: 'nope',
  }),
];

const configError = (stage: Stage, pool: string, option: string, detail: string) => ({
  how: stage === 'forRoot' ? ('threw' as const) : ('rejected' as const),
  type: PoolConfigError,
  code: 'POOL_CONFIG',
  message: new RegExp(
    `^gRPC pool "${literal(pool)}": option "${literal(option)}" ${detail.replace(/^\^/, '')}`,
  ),
});

/** Module-shape rows: what forRoot / forRootAsync itself is given. */
interface ShapeRow {
  readonly label: string;
  readonly make: () => DynamicModule;
  readonly stage: Stage;
  readonly pool: string;
  readonly option: string;
  readonly detail: string;
}

const forRoot = (options: unknown) =>
  GrpcPoolModule.forRoot(options as GrpcPoolOptions & GrpcPoolModuleExtras);
const forRootAsync = (options: unknown) =>
  GrpcPoolModule.forRootAsync(options as Parameters<typeof GrpcPoolModule.forRootAsync>[0]);

const SHAPE_ROWS: ShapeRow[] = [
  ...[
    ['""', ''],
    ['"   "', '   '],
  ].map(([label, name]): ShapeRow => ({
    label: `forRoot({ name: ${label} })`,
    make: () => forRoot({ name, url: TARGET }),
    stage: 'forRoot',
    pool: name,
    option: 'name',
    detail: 'must be a non-empty string, e\\.g\\. "billing"',
  })),
  {
    label: 'forRoot({ name: 42 })',
    make: () => forRoot({ name: 42, url: TARGET }),
    stage: 'forRoot',
    pool: '42',
    option: 'name',
    detail: 'must be a non-empty string',
  },
  {
    label: 'forRootAsync({ name: "", useFactory })',
    make: () => forRootAsync({ name: '', useFactory: () => ({ url: TARGET }) }),
    stage: 'forRoot',
    pool: '',
    option: 'name',
    detail: 'must be a non-empty string',
  },
  ...(
    [
      ['null', null],
      ['undefined', undefined],
      ['"127.0.0.1:1" (a URL instead of options)', TARGET],
      ['42', 42],
    ] as const
  ).map(([label, options]): ShapeRow => ({
    label: `forRoot(${label})`,
    make: () => forRoot(options),
    stage: 'forRoot',
    pool: 'default',
    option: '(options)',
    detail: `is (${literal(titleOf(options))}|${literal(JSON.stringify(options) ?? 'undefined')}): expected an object with at least \\{ url \\}`,
  })),
  ...(
    [
      ['null', null],
      ['{} (no factory)', {}],
      ['{ imports: [] } (no factory)', { imports: [] }],
    ] as const
  ).map(([label, options]): ShapeRow => ({
    label: `forRootAsync(${label})`,
    make: () => forRootAsync(options),
    stage: 'forRoot',
    pool: 'default',
    option: '(async options)',
    detail: '.*useFactory.*useClass.*useExisting',
  })),
  {
    label: 'forRootAsync({ useFactory: () => null })',
    make: () => forRootAsync({ useFactory: () => null }),
    stage: 'compile',
    pool: 'default',
    option: '(options)',
    detail: 'is null: expected an object with at least \\{ url \\}',
  },
  {
    label: 'forRootAsync({ name: "cfg", useFactory: async () => ({ url, size: 0 }) })',
    make: () => forRootAsync({ name: NAME, useFactory: async () => ({ url: TARGET, size: 0 }) }),
    stage: 'compile',
    pool: NAME,
    option: 'size',
    detail: whole('0', 1, 1024),
  },
];

describe('bad module configuration through a real Nest testing module', () => {
  it.each(OPTION_ROWS.map((r) => [r.label, r] as const))(
    'forRoot %s fails with PoolConfigError naming the option',
    async (_label, r) => {
      const built = await build(() => forRoot({ name: NAME, ...(r.options as object) }));
      expect(errorProblems(built.outcome, configError(r.stage, NAME, r.option, r.detail))).toEqual(
        [],
      );
      expect(built.stage).toBe(r.stage);
      const error = (built.outcome as { error?: PoolConfigError }).error;
      expect(error?.option).toBe(r.option);
      expect(error?.pool).toBe(NAME);
    },
  );

  it.each(SHAPE_ROWS.map((r) => [r.label, r] as const))(
    '%s fails with PoolConfigError naming what is wrong',
    async (_label, r) => {
      const built = await build(r.make);
      expect(
        errorProblems(built.outcome, configError(r.stage, r.pool, r.option, r.detail)),
      ).toEqual([]);
      expect(built.stage).toBe(r.stage);
    },
  );

  it('forRootAsync with three bad options fails at compile with one PoolConfigError listing all three', async () => {
    const built = await build(() =>
      forRootAsync({
        name: NAME,
        useFactory: async () => ({ url: 'localhost', size: 0, stratgy: 'random' }),
      }),
    );
    expect(built.stage).toBe('compile');
    const error = (built.outcome as { error?: PoolConfigError }).error;
    expect(error).toBeInstanceOf(PoolConfigError);
    expect(error?.problems.map((problem) => problem.option)).toEqual(['stratgy', 'url', 'size']);
    expect(error?.message).toMatch(
      /^gRPC pool "cfg": 3 problems in its options:\n {2}- option "stratgy" is not a pool option; did you mean "strategy"\? .*\n {2}- option "url" is "localhost": no port: give host:port .*\n {2}- option "size" is 0: expected a whole number from 1 to 1024$/,
    );
  });

  it('a good configuration next to the bad ones builds and closes', async () => {
    const built = await build(() =>
      forRoot({ name: NAME, url: TARGET, size: 1, package: 'echo', protoPath: ECHO_PROTO }),
    );
    expect(built).toMatchObject({ stage: 'none', outcome: { how: 'resolved' } });
  });
});

describe('@InjectPool of a pool that does not exist', () => {
  @Injectable()
  class ByConstructor {
    constructor(@InjectPool('nope') readonly pool: PoolService) {}
  }

  @Injectable()
  class ByProperty {
    @InjectPool('nope') readonly pool!: PoolService;
  }

  @Injectable()
  class WrongCase {
    constructor(@InjectPool('billing') readonly pool: PoolService) {}
  }

  @Injectable()
  class NeedsDefault {
    constructor(readonly pool: PoolService) {}
  }

  it.each([
    ['constructor injection', ByConstructor, 'nope', () => forRoot({ url: TARGET })],
    ['property injection', ByProperty, 'nope', () => forRoot({ url: TARGET })],
    [
      'a name that differs in case',
      WrongCase,
      'billing',
      () => forRoot({ name: 'Billing', url: TARGET }),
    ],
  ] as const)(
    '%s fails at compile with Nest DI naming the token nestjs-grpc-pool:<name>:pool',
    async (_how, consumer, name, pool) => {
      const built = await build(pool, [consumer]);
      expect(built.stage).toBe('compile');
      const error = (built.outcome as { error?: Error }).error;
      expect(error).not.toBeInstanceOf(TypeError);
      expect(error?.constructor.name).toBe('UnknownDependenciesException');
      expect(error?.message).toMatch(new RegExp(`"nestjs-grpc-pool:${name}:pool"`));
      expect(error?.message).toMatch(new RegExp(consumer.name));
    },
  );

  it('injecting PoolService with only a named pool fails naming PoolService', async () => {
    const built = await build(() => forRoot({ name: 'billing', url: TARGET }), [NeedsDefault]);
    expect(built.stage).toBe('compile');
    const error = (built.outcome as { error?: Error }).error;
    expect(error?.constructor.name).toBe('UnknownDependenciesException');
    expect(error?.message).toMatch(/PoolService/);
  });
});
