import { credentials } from '@grpc/grpc-js';
import { PoolConfigError, PoolError } from '../../lib/errors/pool.errors.js';
import type { PoolStrategy } from '../../lib/interfaces/pool-strategy.interface.js';
import { resolvePoolOptions } from '../../lib/options/resolve-pool-options.js';

const POOL = 'billing';
const URL = 'localhost:50051';
const MAX_TIMER = '2147483647';
const TARGETS = /expected "host:port", "dns:\/\/\/host:port" or "unix:\/\/\/path"/;
const MAX_SIZE = '1024';
/** `is <value>: expected a whole number from <min> to <max>`; `value` is a regex source. */
const isWhole = (value: string, min: number | string, max: number | string) =>
  new RegExp(`^is ${value}: expected a whole number from ${min} to ${max}$`);

interface BadRow {
  /** The `option` the error must name. */
  option: string;
  /** How the bad input reads in the test title. */
  label: string;
  raw: unknown;
  /** Must match the part of the message after `gRPC pool "billing": option "<option>" `. */
  detail: RegExp;
}

const row = (option: string, label: string, raw: unknown, detail: RegExp): BadRow => ({
  option,
  label,
  raw,
  detail,
});
const withUrl = (extra: Record<string, unknown>) => ({ url: URL, ...extra });

function resolveError(raw: unknown): unknown {
  try {
    resolvePoolOptions(POOL, raw);
  } catch (error) {
    return error;
  }
  throw new Error('resolvePoolOptions accepted this input instead of throwing a PoolConfigError');
}

const BAD_INPUTS: BadRow[] = [
  // url
  row('url', 'missing', {}, new RegExp(`^is undefined: ${TARGETS.source}$`)),
  row('url', "''", { url: '' }, new RegExp(`^is "": ${TARGETS.source}$`)),
  row('url', "' '", { url: ' ' }, new RegExp(`^is " ": ${TARGETS.source}$`)),
  row('url', "'has space:1'", { url: 'has space:1' }, /^is "has space:1": expected "host:port"/),
  row(
    'url',
    '[]',
    { url: [] },
    /^is an empty list: give at least one target such as "localhost:50051"$/,
  ),
  row('url[0]', "['']", { url: [''] }, new RegExp(`^is "": ${TARGETS.source}$`)),
  row('url[1]', "[good, 'bad host:2']", { url: [URL, 'bad host:2'] }, /^is "bad host:2": expected/),
  row(
    'url[0]',
    'a sparse list',
    { url: new Array<string>(1) },
    /^is undefined: expected "host:port"/,
  ),
  row(
    'url',
    "'host:0'",
    { url: 'host:0' },
    /^is "host:0": port must be from 1 to 65535; expected "host:port"/,
  ),
  row(
    'url',
    "'host:70000'",
    { url: 'host:70000' },
    /^is "host:70000": port must be from 1 to 65535/,
  ),
  row(
    'url',
    "'foo://x'",
    { url: 'foo://x' },
    /^is "foo:\/\/x": unknown scheme "foo:"; expected "host:port"/,
  ),
  row('url', '42', { url: 42 }, new RegExp(`^is 42: ${TARGETS.source}$`)),
  row(
    'url',
    "'dns:'",
    { url: 'dns:' },
    /^is "dns:": expected "host:port".*\(nothing follows "dns:"\)$/,
  ),
  row(
    'url',
    'a 101-character string',
    { url: `${'x'.repeat(100)} ` },
    /^is a string of 101 characters: expected "host:port"/,
  ),
  // size
  row('size', '0', withUrl({ size: 0 }), isWhole('0', 1, MAX_SIZE)),
  row('size', '-1', withUrl({ size: -1 }), isWhole('-1', 1, MAX_SIZE)),
  row('size', '1.5', withUrl({ size: 1.5 }), isWhole('1\\.5', 1, MAX_SIZE)),
  row('size', 'NaN', withUrl({ size: NaN }), isWhole('NaN', 1, MAX_SIZE)),
  row('size', 'Infinity', withUrl({ size: Infinity }), isWhole('Infinity', 1, MAX_SIZE)),
  row('size', '1025', withUrl({ size: 1025 }), isWhole('1025', 1, MAX_SIZE)),
  row('size', "'4'", withUrl({ size: '4' }), isWhole('"4"', 1, MAX_SIZE)),
  row('size', '4n', withUrl({ size: 4n }), isWhole('4n', 1, MAX_SIZE)),
  // strategy
  row(
    'strategy',
    "'fastest'",
    withUrl({ strategy: 'fastest' }),
    /^is "fastest": expected one of round-robin, random, power-of-two, least-loaded or an object \{ name: string, pick\(members, count\): number \}$/,
  ),
  row(
    'strategy',
    "'toString'",
    withUrl({ strategy: 'toString' }),
    /^is "toString": expected one of round-robin, /,
  ),
  row(
    'strategy',
    '{}',
    withUrl({ strategy: {} }),
    /^is an object \(Object\): expected one of round-robin, .* or an object \{ name: string, pick/,
  ),
  row(
    'strategy',
    "{ name: 'x' }",
    withUrl({ strategy: { name: 'x' } }),
    /^is an object \(Object\): expected one of .*pick\(members, count\)/,
  ),
  row(
    'strategy',
    '{ pick }',
    withUrl({ strategy: { pick: () => 0 } }),
    /^is an object \(Object\): expected one of .*name: string/,
  ),
  row(
    'strategy',
    '42',
    withUrl({ strategy: 42 }),
    /^is 42: expected one of round-robin, random, power-of-two, least-loaded/,
  ),
  // credentials
  row(
    'credentials',
    '{}',
    withUrl({ credentials: {} }),
    /^is an object \(Object\): expected grpc-js ChannelCredentials, e\.g\. credentials\.createSsl\(\)$/,
  ),
  row(
    'credentials',
    "'insecure'",
    withUrl({ credentials: 'insecure' }),
    /^is "insecure": expected grpc-js ChannelCredentials/,
  ),
  // channelOptions
  row(
    'channelOptions',
    "'x'",
    withUrl({ channelOptions: 'x' }),
    /^is "x": expected a plain object$/,
  ),
  row(
    'channelOptions',
    '[]',
    withUrl({ channelOptions: [] }),
    /^is an array of 0: expected a plain object$/,
  ),
  row(
    'channelOptions.a',
    '{ a: true }',
    withUrl({ channelOptions: { a: true } }),
    /^is true: expected a string, a number or an object as grpc-js channel args take$/,
  ),
  // keepalive
  row('keepalive', "'x'", withUrl({ keepalive: 'x' }), /^is "x": expected a plain object$/),
  row(
    'keepalive.unknownKey',
    '{ unknownKey: 1 }',
    withUrl({ keepalive: { unknownKey: 1 } }),
    /^is 1: expected one of keepaliveTimeMs, keepaliveTimeoutMs, keepalivePermitWithoutCalls, /,
  ),
  row(
    'keepalive.constructor',
    '{ constructor: 1 }',
    withUrl({ keepalive: { constructor: 1 } }),
    /^is 1: expected one of keepaliveTimeMs, /,
  ),
  row(
    'keepalive.toString',
    '{ toString: 1 }',
    withUrl({ keepalive: { toString: 1 } }),
    /^is 1: expected one of keepaliveTimeMs, /,
  ),
  row(
    'keepalive.keepaliveTimeMs',
    '{ keepaliveTimeMs: -1 }',
    withUrl({ keepalive: { keepaliveTimeMs: -1 } }),
    isWhole('-1', 0, MAX_TIMER),
  ),
  row(
    'keepalive.keepaliveTimeoutMs',
    "{ keepaliveTimeoutMs: '5' }",
    withUrl({ keepalive: { keepaliveTimeoutMs: '5' } }),
    isWhole('"5"', 0, MAX_TIMER),
  ),
  // backoff
  row('backoff', '7', withUrl({ backoff: 7 }), /^is 7: expected a plain object$/),
  row(
    'backoff.initialMs',
    '{ initialMs: 0 }',
    withUrl({ backoff: { initialMs: 0 } }),
    isWhole('0', 1, MAX_TIMER),
  ),
  row(
    'backoff.maxMs',
    '{ maxMs: 5, initialMs: 10 }',
    withUrl({ backoff: { maxMs: 5, initialMs: 10 } }),
    isWhole('5', 10, MAX_TIMER),
  ),
  row(
    'backoff.other',
    '{ other: 1 }',
    withUrl({ backoff: { other: 1 } }),
    /^is 1: expected initialMs or maxMs$/,
  ),
  // readyTimeoutMs
  row('readyTimeoutMs', '-1', withUrl({ readyTimeoutMs: -1 }), isWhole('-1', 0, MAX_TIMER)),
  row('readyTimeoutMs', '1.2', withUrl({ readyTimeoutMs: 1.2 }), isWhole('1\\.2', 0, MAX_TIMER)),
  row(
    'readyTimeoutMs',
    '2**31',
    withUrl({ readyTimeoutMs: 2 ** 31 }),
    isWhole('2147483648', 0, MAX_TIMER),
  ),
  // onReadyTimeout
  row(
    'onReadyTimeout',
    "'explode'",
    withUrl({ onReadyTimeout: 'explode' }),
    /^is "explode": expected 'fail' or 'warn'$/,
  ),
  // drainTimeoutMs, connectTimeoutMs
  row('drainTimeoutMs', '-5', withUrl({ drainTimeoutMs: -5 }), isWhole('-5', 0, MAX_TIMER)),
  row('connectTimeoutMs', '0', withUrl({ connectTimeoutMs: 0 }), isWhole('0', 1, MAX_TIMER)),
  // minReady
  row('minReady', '0', withUrl({ minReady: 0 }), isWhole('0', 1, 4)),
  row('minReady', 'size + 1 (default size)', withUrl({ minReady: 5 }), isWhole('5', 1, 4)),
  row('minReady', 'size + 1 (size 2)', withUrl({ size: 2, minReady: 3 }), isWhole('3', 1, 2)),
  // unknown keys and non-objects
  row(
    'sise',
    "'sise' (typo of size)",
    withUrl({ sise: 4 }),
    /^is not a pool option; known options: url, size, strategy, credentials, channelOptions, keepalive, backoff, readyTimeoutMs, onReadyTimeout, drainTimeoutMs, connectTimeoutMs, minReady(, \w+)*$/,
  ),
  row('(options)', 'null', null, /^is null: expected an object with at least \{ url \}$/),
  row(
    '(options)',
    'undefined',
    undefined,
    /^is undefined: expected an object with at least \{ url \}$/,
  ),
  row('(options)', "'x'", 'x', /^is "x": expected an object with at least \{ url \}$/),
  row('(options)', '[]', [], /^is an array of 0: expected an object with at least \{ url \}$/),
];

describe('resolvePoolOptions', () => {
  describe('rejects bad input with a PoolConfigError naming pool, option, value and what is allowed', () => {
    it.each(BAD_INPUTS)('$option: $label', ({ option, raw, detail }) => {
      const error = resolveError(raw);

      expect(error).toBeInstanceOf(PoolConfigError);
      expect(error).toBeInstanceOf(PoolError);
      const configError = error as PoolConfigError;
      expect(configError.name).toBe('PoolConfigError');
      expect(configError.code).toBe('POOL_CONFIG');
      expect(configError.pool).toBe(POOL);
      expect(configError.option).toBe(option);
      const prefix = `gRPC pool "${POOL}": option "${option}" `;
      expect(configError.message.startsWith(prefix)).toBe(true);
      expect(configError.message.slice(prefix.length)).toMatch(detail);
    });

    it('checks the whole table of options', () => {
      const covered = new Set(BAD_INPUTS.map((bad) => bad.option.split(/[.[]/)[0]));
      expect([...covered].sort()).toEqual(
        [
          '(options)',
          'backoff',
          'channelOptions',
          'connectTimeoutMs',
          'credentials',
          'drainTimeoutMs',
          'keepalive',
          'minReady',
          'onReadyTimeout',
          'readyTimeoutMs',
          'sise',
          'size',
          'strategy',
          'url',
        ].sort(),
      );
    });
  });

  describe('accepts good input', () => {
    it('fills in the defaults', () => {
      const options = resolvePoolOptions(POOL, { url: URL });

      expect(options).toMatchObject({
        name: POOL,
        urls: [URL],
        size: 4,
        strategy: 'round-robin',
        readyTimeoutMs: 0,
        onReadyTimeout: 'fail',
        drainTimeoutMs: 10_000,
        connectTimeoutMs: 20_000,
        minReady: undefined,
      });
      expect(options.credentials._isSecure()).toBe(false);
      expect(options.channelOptions).toEqual({
        'grpc.client_idle_timeout_ms': 2_147_483_647,
        'grpc.use_local_subchannel_pool': 1,
      });
    });

    it('freezes the result, its url list and its channel args', () => {
      const options = resolvePoolOptions(POOL, { url: [URL, 'localhost:50052'] });

      expect(Object.isFrozen(options)).toBe(true);
      expect(Object.isFrozen(options.urls)).toBe(true);
      expect(Object.isFrozen(options.channelOptions)).toBe(true);
    });

    it('keeps a url list in order', () => {
      const urls = ['b:2', 'a:1', 'dns:///c:3', 'b:2'];
      expect(resolvePoolOptions(POOL, { url: urls }).urls).toEqual(urls);
    });

    it.each([
      'dns:///host:1',
      'dns:host:1',
      'unix:///tmp/x.sock',
      'unix:relative.sock',
      'ipv4:127.0.0.1:50051',
      '[::1]:50051',
      '[::1]',
      '127.0.0.1:1',
      'localhost:65535',
      'example.com',
    ])('accepts the target %s', (url) => {
      expect(resolvePoolOptions(POOL, { url }).urls).toEqual([url]);
    });

    it('keeps every given option', () => {
      const secure = credentials.createSsl();
      const strategy: PoolStrategy = { name: 'first', pick: () => 0 };
      const options = resolvePoolOptions(POOL, {
        url: URL,
        size: 1024,
        strategy,
        credentials: secure,
        readyTimeoutMs: 2_147_483_647,
        onReadyTimeout: 'warn',
        drainTimeoutMs: 0,
        connectTimeoutMs: 1,
        minReady: 1024,
      });

      expect(options).toMatchObject({
        size: 1024,
        readyTimeoutMs: 2_147_483_647,
        onReadyTimeout: 'warn',
        drainTimeoutMs: 0,
        connectTimeoutMs: 1,
        minReady: 1024,
      });
      expect(options.strategy).toBe(strategy);
      expect(options.credentials).toBe(secure);
    });

    it.each(['round-robin', 'random', 'power-of-two', 'least-loaded'])(
      'accepts the strategy %s',
      (strategy) => {
        expect(resolvePoolOptions(POOL, { url: URL, strategy }).strategy).toBe(strategy);
      },
    );

    it('treats an option set to undefined as left out', () => {
      const options = resolvePoolOptions(POOL, { url: URL, size: undefined, strategy: undefined });
      expect(options.size).toBe(4);
      expect(options.strategy).toBe('round-robin');
    });

    it('maps every keepalive option to its grpc-js channel arg', () => {
      const { channelOptions } = resolvePoolOptions(POOL, {
        url: URL,
        keepalive: {
          keepaliveTimeMs: 10_000,
          keepaliveTimeoutMs: 5_000,
          keepalivePermitWithoutCalls: 1,
          http2MaxPingsWithoutData: 0,
          http2MinTimeBetweenPingsMs: 7_000,
          http2MinPingIntervalWithoutDataMs: 8_000,
          http2MaxPingStrikes: 2,
        },
      });

      expect(channelOptions).toMatchObject({
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.keepalive_permit_without_calls': 1,
        'grpc.http2.max_pings_without_data': 0,
        'grpc.http2.min_time_between_pings_ms': 7_000,
        'grpc.http2.min_ping_interval_without_data_ms': 8_000,
        'grpc.http2.max_ping_strikes': 2,
      });
      expect(Object.keys(channelOptions)).not.toContain('keepaliveTimeMs');
    });

    it('maps backoff to the grpc-js reconnect channel args', () => {
      const { channelOptions } = resolvePoolOptions(POOL, {
        url: URL,
        backoff: { initialMs: 250, maxMs: 250 },
      });

      expect(channelOptions['grpc.initial_reconnect_backoff_ms']).toBe(250);
      expect(channelOptions['grpc.max_reconnect_backoff_ms']).toBe(250);
    });

    it('maps a lone backoff.maxMs without setting the initial backoff', () => {
      const { channelOptions } = resolvePoolOptions(POOL, { url: URL, backoff: { maxMs: 1 } });

      expect(channelOptions['grpc.max_reconnect_backoff_ms']).toBe(1);
      expect(channelOptions).not.toHaveProperty(['grpc.initial_reconnect_backoff_ms']);
    });

    it("keeps the user's channel args and forces a local subchannel pool", () => {
      const user = {
        'grpc.client_idle_timeout_ms': 60_000,
        'grpc.use_local_subchannel_pool': 0,
        'grpc.primary_user_agent': 'billing/1.0',
        'grpc.service_config': { loadBalancingConfig: [] },
      };
      const { channelOptions } = resolvePoolOptions(POOL, { url: URL, channelOptions: user });

      expect(channelOptions).toEqual({
        'grpc.client_idle_timeout_ms': 60_000,
        'grpc.use_local_subchannel_pool': 1,
        'grpc.primary_user_agent': 'billing/1.0',
        'grpc.service_config': { loadBalancingConfig: [] },
      });
      // The user's object is copied, not changed.
      expect(user['grpc.use_local_subchannel_pool']).toBe(0);
    });

    it('lets keepalive and backoff win over the same channel args given directly', () => {
      const { channelOptions } = resolvePoolOptions(POOL, {
        url: URL,
        channelOptions: { 'grpc.keepalive_time_ms': 1, 'grpc.initial_reconnect_backoff_ms': 1 },
        keepalive: { keepaliveTimeMs: 30_000 },
        backoff: { initialMs: 500 },
      });

      expect(channelOptions['grpc.keepalive_time_ms']).toBe(30_000);
      expect(channelOptions['grpc.initial_reconnect_backoff_ms']).toBe(500);
    });
  });
});
