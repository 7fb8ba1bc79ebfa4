import * as grpc from '@grpc/grpc-js';
import {
  MAX_POOL_SIZE,
  PoolArgumentError,
  type GrpcClientConstructor,
  type PoolService,
} from 'nestjs-grpc-pool';
import { ECHO_PROTO, EchoClient, EchoServer, unary, waitFor } from '../support/echo-server.js';
import { startPoolApp, type PoolApp } from '../support/pool-app.js';
import { errorProblems, literal, outcomeOf, titleOf, type ExpectedError } from './expect-error.js';

/**
 * Bad arguments to every public method of `PoolService`, table-driven. Each row names the
 * error class, its `code` and a message that must say which pool, which method and which
 * value is wrong (strings shown quoted, bigints with their `n`, objects by kind: a message
 * that says `got 3` for the string '3' does not say what is wrong). No row may end in a
 * bare TypeError, and none may change the pool.
 */
const POOL = 'bad';
const MAX_TIMER = 2_147_483_647;

interface Row extends ExpectedError {
  readonly call: string;
  readonly run: (pool: PoolService) => unknown;
}

/** A bad value and how an error message must show it (a regex source). */
type Bad = readonly [value: unknown, shown: string, title?: string];

const circular: Record<string, unknown> = {};
circular.self = circular;

/** Wrong for any whole-number argument. */
const NOT_WHOLE: readonly Bad[] = [
  ['3', '"3"'],
  ['', '""'],
  [1.5, '1\\.5'],
  [NaN, 'NaN'],
  [Infinity, 'Infinity'],
  [-Infinity, '-Infinity'],
  [null, 'null'],
  [true, 'true'],
  [3n, '3n'],
  [{}, 'an object \\(Object\\)'],
  [Object.create(null), 'an object \\(Object\\)'],
  [new Number(2), 'an object \\(Number\\)'],
  [[2], 'an array of 1'],
  [Symbol('n'), 'a symbol'],
  [() => 2, 'a function'],
];

/** Whole numbers out of every range here. */
const OUT_OF_RANGE: readonly Bad[] = [
  [-1, '-1'],
  [2 ** 31, '2147483648'],
  [Number.MAX_SAFE_INTEGER, '9007199254740991'],
  [1e21, '1e\\+21'],
];

function wholeNumberRows(
  method: string,
  run: (pool: PoolService, value: unknown) => unknown,
  values: readonly Bad[],
  range: string,
): Row[] {
  return values.map(([value, shown]) => ({
    call: `${method.replace(/\(.*/, '')}(${titleOf(value)})`,
    run: (pool) => run(pool, value),
    how: 'rejected',
    type: PoolArgumentError,
    code: 'POOL_ARGUMENT',
    message: new RegExp(
      `^gRPC pool "${POOL}": ${literal(method)} got ${shown}: expected a whole number from ${literal(range)}$`,
    ),
  }));
}

const SIZE = 2;
const NUMBER_ROWS: Row[] = [
  ...wholeNumberRows(
    'awaitReady(timeoutMs)',
    (pool, value) => pool.awaitReady(value as number),
    [...NOT_WHOLE, [-1, '-1'], [MAX_TIMER + 1, '2147483648'], [1e21, '1e\\+21']],
    `0 to ${MAX_TIMER}`,
  ),
  ...wholeNumberRows(
    'scaleUp(n)',
    (pool, value) => pool.scaleUp(value as number),
    [...NOT_WHOLE, ...OUT_OF_RANGE, [undefined, 'undefined'], [0, '0'], [1023, '1023']],
    `1 to ${MAX_POOL_SIZE - SIZE} (pool size is ${SIZE})`,
  ),
  ...wholeNumberRows(
    'scaleDown(n)',
    (pool, value) => pool.scaleDown(value as number),
    [...NOT_WHOLE, ...OUT_OF_RANGE, [undefined, 'undefined'], [0, '0'], [2, '2'], [3, '3']],
    `1 to ${SIZE - 1} (pool size is ${SIZE})`,
  ),
  ...wholeNumberRows(
    'resize(size)',
    (pool, value) => pool.resize(value as number),
    [...NOT_WHOLE, ...OUT_OF_RANGE, [undefined, 'undefined'], [0, '0'], [1025, '1025']],
    `1 to ${MAX_POOL_SIZE} (pool size is ${SIZE})`,
  ),
];

/** `getService` / `getClientByServiceName` with a service the pool did not load. */
function serviceRows(method: 'getService' | 'getClientByServiceName'): Row[] {
  const unknown: readonly Bad[] = [
    ['Nope', '"Nope"'],
    ['echo.Echo', '"echo\\.Echo"'],
    ['echo', '"echo"'],
    ['ECHO', '"ECHO"'],
    ['', '""'],
    ['constructor', '"constructor"'],
    ['__proto__', '"__proto__"'],
    ['toString', '"toString"'],
    [42, '42'],
    [undefined, 'undefined'],
    [null, 'null'],
    [1n, '1n'],
    [{}, '(\\{\\}|an object \\(Object\\))'],
    [circular, 'an object \\(Object\\)', 'a circular object'],
  ];
  return unknown.map(([value, shown, title]) => ({
    call: `${method}(${title ?? titleOf(value)})`,
    run: (pool) =>
      method === 'getService'
        ? pool.getService(value as string)
        : pool.getClientByServiceName(value as string),
    how: 'threw',
    type: PoolArgumentError,
    code: 'POOL_ARGUMENT',
    message: new RegExp(
      `^gRPC pool "${POOL}": ${method}\\(${shown}\\) found no such service in package "echo"; services loaded: Echo$`,
    ),
  }));
}

const notConstructors: readonly Bad[] = [
  [undefined, 'undefined'],
  [null, '(null|object)'],
  [42, '(42|number)'],
  ['EchoClient', '("EchoClient"|string)'],
  [{}, '(an object \\(Object\\)|object)'],
  [() => ({}), '(a function|function)'],
  [Math.max, '(a function|function)'],
  [async function load() {}, '(a function|function)'],
  [{ method() {} }.method, '(a function|function)'],
];

const CLIENT_ROWS: Row[] = [
  ...notConstructors.map(([ctor, shown]): Row => ({
    call: `getClient(${titleOf(ctor)})`,
    run: (pool) => pool.getClient(ctor as GrpcClientConstructor<unknown>),
    how: 'threw',
    type: PoolArgumentError,
    code: 'POOL_ARGUMENT',
    message: new RegExp(
      `^gRPC pool "${POOL}": getClient\\(ctor\\) got ${shown}(?: that is not a constructor)?: expected a grpc-js client constructor`,
    ),
  })),
  ...notConstructors.map(([ctor, shown]): Row => ({
    call: `createClient(${titleOf(ctor)})`,
    run: (pool) => pool.createClient(ctor as GrpcClientConstructor<unknown>),
    how: 'threw',
    type: PoolArgumentError,
    code: 'POOL_ARGUMENT',
    message: new RegExp(
      `^gRPC pool "${POOL}": createClient\\(ctor\\) got ${shown}(?: that is not a constructor)?: expected a grpc-js client constructor`,
    ),
  })),
  ...(
    [
      ['x', '"x"'],
      [42, '42'],
      [true, 'true'],
      [[{}], 'an array of 1'],
    ] as const satisfies readonly Bad[]
  ).map(([options, shown]): Row => ({
    call: `createClient(EchoClient, ${titleOf(options)})`,
    run: (pool) => pool.createClient(EchoClient, options as unknown as grpc.ClientOptions),
    how: 'threw',
    type: PoolArgumentError,
    code: 'POOL_ARGUMENT',
    message: new RegExp(
      `^gRPC pool "${POOL}": createClient\\(ctor, options\\) got ${shown}: expected grpc-js ClientOptions \\(an object\\)`,
    ),
  })),
];

describe('bad arguments to PoolService methods', () => {
  let server: EchoServer;
  let app: PoolApp;
  let plain: PoolApp;

  beforeAll(async () => {
    server = await EchoServer.start();
    app = await startPoolApp({
      name: POOL,
      url: server.url,
      size: SIZE,
      package: 'echo',
      protoPath: ECHO_PROTO,
    });
    plain = await startPoolApp({ name: POOL, url: server.url, size: 1 });
    await waitFor(() => app.pool.status().ready === SIZE, 'a full pool');
  });

  afterAll(async () => {
    await app.close();
    await plain.close();
    server.stop();
  });

  afterEach(() => {
    // No bad argument may change the pool.
    expect(app.pool.status()).toMatchObject({
      size: SIZE,
      ready: SIZE,
      inFlight: 0,
      closed: false,
    });
  });

  describe.each([
    ['whole-number arguments', NUMBER_ROWS],
    ['getService(name)', serviceRows('getService')],
    ['getClientByServiceName(name)', serviceRows('getClientByServiceName')],
    ['getClient(ctor) and createClient(ctor, options)', CLIENT_ROWS],
  ])('%s', (_group, rows) => {
    it.each(rows.map((row) => [row.call, row] as const))(
      '%s fails with its documented error naming the value',
      async (_call, row) => {
        expect(errorProblems(await outcomeOf(() => row.run(app.pool)), row)).toEqual([]);
      },
    );
  });

  it('getService without proto options says to give them', async () => {
    const outcome = await outcomeOf(() => plain.pool.getService('Echo'));
    expect(
      errorProblems(outcome, {
        how: 'threw',
        type: PoolArgumentError,
        code: 'POOL_ARGUMENT',
        message:
          /^gRPC pool "bad": getService\("Echo"\) needs the proto options: give the pool \{ package, protoPath \}/,
      }),
    ).toEqual([]);
  });

  it('scaleDown(1) on a pool of one says it is at its limit', async () => {
    const outcome = await outcomeOf(() => plain.pool.scaleDown(1));
    expect(
      errorProblems(outcome, {
        how: 'rejected',
        type: PoolArgumentError,
        code: 'POOL_ARGUMENT',
        message:
          /^gRPC pool "bad": scaleDown\(n\) got 1: expected no value: the pool is already at its limit \(pool size is 1\)$/,
      }),
    ).toEqual([]);
    expect(plain.pool.status().size).toBe(1);
  });

  it('the good arguments next to the bad ones work (the table is not rejecting everything)', async () => {
    await expect(app.pool.awaitReady(0)).resolves.toBeUndefined();
    await expect(app.pool.awaitReady(MAX_TIMER)).resolves.toBeUndefined();
    expect(app.pool.getService('Echo')).toBeDefined();
    expect(app.pool.getClient(EchoClient)).toBe(app.pool.getClient(EchoClient));
    const client = app.pool.createClient(EchoClient, { interceptors: [] }) as grpc.Client;
    client.close();
    await expect(unary(app.pool.channel, { message: 'ok' })).resolves.toMatchObject({
      message: 'ok',
    });
    await expect(app.pool.scaleUp(1)).resolves.toBe(SIZE + 1);
    await expect(app.pool.scaleDown(1)).resolves.toBe(SIZE);
  });
});
