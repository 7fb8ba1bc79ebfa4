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
/** An object that refers to itself, which JSON cannot hold. */
const cyclic = () => {
  const config: Record<string, unknown> = {};
  config.self = config;
  return config;
};

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
  ...[
    'localhost',
    'example.com',
    '[::1]',
    'dns:///localhost',
    'dns://8.8.8.8/example.com',
    'ipv4:10.0.0.1:1,10.0.0.2',
  ].map((url) =>
    row(
      'url',
      `'${url}' (no port, insecure)`,
      { url },
      new RegExp(
        `^is "${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}": no port: give host:port \\(without TLS credentials grpc-js would dial ".*" on 443, the TLS port\\)$`,
      ),
    ),
  ),
  row(
    'url[1]',
    "[good, 'localhost'] (no port, insecure)",
    { url: [URL, 'localhost'] },
    /^is "localhost": no port: give host:port/,
  ),
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
    /^is "fastest": expected one of round-robin, random, power-of-two, least-loaded, peak-ewma or an object \{ name: string, pick\(members, count\): number \}$/,
  ),
  row(
    'strategy',
    "'roundrobin' (a letter dropped)",
    withUrl({ strategy: 'roundrobin' }),
    /^is "roundrobin": expected one of round-robin, .* pick\(members, count\): number \}; did you mean "round-robin"\?$/,
  ),
  row(
    'strategy',
    "'powr-of-two' (a letter dropped)",
    withUrl({ strategy: 'powr-of-two' }),
    /; did you mean "power-of-two"\?$/,
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
    /^is 1: expected one of initialMs, maxMs$/,
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
  // interceptors, serviceConfig, defaultDeadlineMs
  row(
    'interceptors',
    '() => x (not a list)',
    withUrl({ interceptors: () => undefined }),
    /^is a function: expected a list of grpc-js interceptors, e\.g\. /,
  ),
  row(
    'interceptors[1]',
    '[fn, 42]',
    withUrl({ interceptors: [() => undefined, 42] }),
    /^is 42: expected a grpc-js interceptor: a function \(options, nextCall\) => InterceptingCall$/,
  ),
  row(
    'serviceConfig',
    "'{}' (a string)",
    withUrl({ serviceConfig: '{}' }),
    /^is "\{\}": expected a grpc-js service config object, e\.g\. /,
  ),
  row(
    'serviceConfig',
    'a cycle',
    withUrl({ serviceConfig: cyclic() }),
    /^cannot be written as JSON \(.*circular.*\): give plain objects, /i,
  ),
  row(
    'serviceConfig',
    '{ methodConfig: [{ retryPolicy: { maxAttempts: 1 } }] }',
    withUrl({
      serviceConfig: {
        methodConfig: [
          {
            name: [{}],
            retryPolicy: {
              maxAttempts: 1,
              initialBackoff: '0.1s',
              maxBackoff: '1s',
              backoffMultiplier: 2,
              retryableStatusCodes: ['UNAVAILABLE'],
            },
          },
        ],
      },
    }),
    /^is refused by grpc-js: .*maxAttempts must be an integer at least 2; see https:\/\/github\.com\/grpc\/grpc\/blob\/master\/doc\/service_config\.md$/,
  ),
  row('defaultDeadlineMs', '-1', withUrl({ defaultDeadlineMs: -1 }), isWhole('-1', 0, MAX_TIMER)),
  row(
    'defaultDeadlineMs',
    "'5s'",
    withUrl({ defaultDeadlineMs: '5s' }),
    isWhole('"5s"', 0, MAX_TIMER),
  ),
  row('healthCheck', "'on'", withUrl({ healthCheck: 'on' }), /^is "on": expected a plain object$/),
  row(
    'healthCheck.intervalMs',
    '0',
    withUrl({ healthCheck: { intervalMs: 0 } }),
    isWhole('0', 1, MAX_TIMER),
  ),
  row(
    'healthCheck.timeoutMs',
    "'1s'",
    withUrl({ healthCheck: { timeoutMs: '1s' } }),
    isWhole('"1s"', 1, MAX_TIMER),
  ),
  row(
    'healthCheck.service',
    '42',
    withUrl({ healthCheck: { service: 42 } }),
    /^is 42: expected a service name as a string \('' for the server\)$/,
  ),
  row(
    'healthCheck.intervalMS',
    'a typo',
    withUrl({ healthCheck: { intervalMS: 100 } }),
    /^is 100: expected one of service, intervalMs, timeoutMs; did you mean "intervalMs"\?$/,
  ),
  row(
    'outlierEjection.consecutiveFailures',
    '0',
    withUrl({ outlierEjection: { consecutiveFailures: 0 } }),
    isWhole('0', 1, 1000000),
  ),
  row(
    'outlierEjection.maxEjectionMs',
    'below baseEjectionMs',
    withUrl({ outlierEjection: { baseEjectionMs: 1000, maxEjectionMs: 999 } }),
    isWhole('999', 1000, MAX_TIMER),
  ),
  row(
    'outlierEjection.baseEjectionMs',
    '-5',
    withUrl({ outlierEjection: { baseEjectionMs: -5 } }),
    isWhole('-5', 1, MAX_TIMER),
  ),
  // unknown keys and non-objects
  row(
    'sise',
    "'sise' (typo of size)",
    withUrl({ sise: 4 }),
    /^is not a pool option; did you mean "size"\? known options: url, size, strategy, credentials, channelOptions, keepalive, backoff, readyTimeoutMs, onReadyTimeout, drainTimeoutMs, connectTimeoutMs, minReady(, \w+)*$/,
  ),
  row(
    'szie',
    "'szie' (two letters swapped)",
    withUrl({ szie: 4 }),
    /^is not a pool option; did you mean "size"\? known options: url, /,
  ),
  row(
    'URL',
    "'URL' (case)",
    { url: URL, URL },
    /^is not a pool option; did you mean "url"\? known options: url, /,
  ),
  row(
    'poolSize',
    "'poolSize' (two edits away)",
    withUrl({ poolSize: 4 }),
    /^is not a pool option; known options: url, size, /,
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
  // address spreading
  row(
    'addressMode',
    "'sprad'",
    withUrl({ addressMode: 'sprad' }),
    /^is "sprad": expected 'spread' or 'channel'; did you mean "spread"\?$/,
  ),
  row('resolveIntervalMs', '0', withUrl({ resolveIntervalMs: 0 }), isWhole('0', 1, MAX_TIMER)),
  row(
    'lookup',
    "'8.8.8.8'",
    withUrl({ lookup: '8.8.8.8' }),
    /^is "8.8.8.8": expected a function \(host\) => Promise<\{ address \}\[\]>/,
  ),
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
          'addressMode',
          'lookup',
          'resolveIntervalMs',
          'backoff',
          'channelOptions',
          'connectTimeoutMs',
          'credentials',
          'defaultDeadlineMs',
          'drainTimeoutMs',
          'healthCheck',
          'interceptors',
          'outlierEjection',
          'serviceConfig',
          'szie',
          'URL',
          'poolSize',
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

  describe('reports every problem of an options object in one error', () => {
    it('lists each bad option once, in check order, with its own detail', () => {
      const error = resolveError({
        url: 'localhost',
        sise: 4,
        size: 0,
        strategy: 'randon',
        keepalive: { keepaliveTimeMS: 1 },
        drainTimeoutMs: -1,
      }) as PoolConfigError;

      expect(error).toBeInstanceOf(PoolConfigError);
      expect(error.code).toBe('POOL_CONFIG');
      expect(error.problems.map((problem) => problem.option)).toEqual([
        'sise',
        'url',
        'size',
        'strategy',
        'keepalive.keepaliveTimeMS',
        'drainTimeoutMs',
      ]);
      expect(error.option).toBe('sise');
      const lines = error.message.split('\n');
      expect(lines[0]).toBe('gRPC pool "billing": 6 problems in its options:');
      expect(lines.slice(1)).toEqual([
        expect.stringMatching(/^ {2}- option "sise" is not a pool option; did you mean "size"\? /),
        expect.stringMatching(/^ {2}- option "url" is "localhost": no port: give host:port/),
        '  - option "size" is 0: expected a whole number from 1 to 1024',
        expect.stringMatching(/^ {2}- option "strategy" is "randon": .*; did you mean "random"\?$/),
        expect.stringMatching(
          /^ {2}- option "keepalive\.keepaliveTimeMS" is 1: expected one of .*; did you mean "keepaliveTimeMs"\?$/,
        ),
        `  - option "drainTimeoutMs" is -1: expected a whole number from 0 to ${MAX_TIMER}`,
      ]);
    });

    it('keeps the one-line message when only one option is wrong', () => {
      const error = resolveError({ url: URL, size: 0 }) as PoolConfigError;

      expect(error.problems).toEqual([
        { option: 'size', detail: 'is 0: expected a whole number from 1 to 1024' },
      ]);
      expect(error.message).toBe(
        'gRPC pool "billing": option "size" is 0: expected a whole number from 1 to 1024',
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

    it('leaves health checking and outlier ejection off unless asked, and fills in their defaults', () => {
      expect(resolvePoolOptions(POOL, { url: URL })).toMatchObject({
        healthCheck: undefined,
        outlierEjection: undefined,
      });
      const options = resolvePoolOptions(POOL, {
        url: URL,
        healthCheck: {},
        outlierEjection: { baseEjectionMs: 600_000 },
      });
      expect(options.healthCheck).toEqual({ service: '', intervalMs: 5_000, timeoutMs: 1_000 });
      // A base above the default maximum raises the maximum with it.
      expect(options.outlierEjection).toEqual({
        consecutiveFailures: 5,
        baseEjectionMs: 600_000,
        maxEjectionMs: 600_000,
      });
      expect(Object.isFrozen(options.healthCheck)).toBe(true);
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
      '127.0.0.1:1',
      'localhost:65535',
      'vsock:3:50051',
    ])('accepts the target %s', (url) => {
      expect(resolvePoolOptions(POOL, { url }).urls).toEqual([url]);
    });

    // TLS's port is 443, grpc-js's default: with TLS credentials a name alone is complete.
    it.each(['example.com', '[::1]', 'dns:///example.com', 'ipv4:10.0.0.1'])(
      'accepts the target %s without a port with TLS credentials',
      (url) => {
        expect(
          resolvePoolOptions(POOL, { url, credentials: credentials.createSsl() }).urls,
        ).toEqual([url]);
      },
    );

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

    it.each(['round-robin', 'random', 'power-of-two', 'least-loaded', 'peak-ewma'])(
      'accepts the strategy %s',
      (strategy) => {
        expect(resolvePoolOptions(POOL, { url: URL, strategy }).strategy).toBe(strategy);
      },
    );

    it('fills in the peak-ewma tuning only for that strategy', () => {
      expect(resolvePoolOptions(POOL, { url: URL, strategy: 'peak-ewma' }).peakEwma).toEqual({
        tauMs: 10_000,
        decayIntervalMs: 250,
        costExponent: 2,
      });
      expect(
        resolvePoolOptions(POOL, {
          url: URL,
          strategy: 'peak-ewma',
          peakEwma: { tauMs: 500, costExponent: 1 },
        }).peakEwma,
      ).toEqual({ tauMs: 500, decayIntervalMs: 250, costExponent: 1 });
      expect(resolvePoolOptions(POOL, { url: URL }).peakEwma).toBeUndefined();
    });

    it('reports peak-ewma tuning that is out of range, unknown or without that strategy', () => {
      const problems = (options: object): string[] => {
        try {
          resolvePoolOptions(POOL, { url: URL, ...options });
        } catch (error) {
          return (error as PoolConfigError).problems.map((p) => `${p.option} ${p.detail}`);
        }
        return [];
      };
      expect(
        problems({
          strategy: 'peak-ewma',
          peakEwma: { tauMs: 0, costExponent: 3, tau: 1 },
        }),
      ).toEqual([
        'peakEwma.tau is 1: expected one of tauMs, decayIntervalMs, costExponent',
        'peakEwma.tauMs is 0: expected a whole number from 1 to 2147483647',
        'peakEwma.costExponent is 3: expected 1 or 2',
      ]);
      expect(problems({ peakEwma: { tauMs: 100 } })).toEqual([
        "peakEwma applies only to strategy: 'peak-ewma'; remove it or set that strategy",
      ]);
    });

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

    it('gives serviceConfig to every member as the grpc.service_config channel arg (JSON)', () => {
      const serviceConfig = { methodConfig: [{ name: [{ service: 'echo.Echo' }], timeout: '2s' }] };
      const options = resolvePoolOptions(POOL, { url: URL, serviceConfig });

      expect(options.channelOptions['grpc.service_config']).toBe(JSON.stringify(serviceConfig));
    });

    it('keeps interceptors in order and the default deadline, both off by default', () => {
      const first = () => undefined as never;
      const second = () => undefined as never;
      const options = resolvePoolOptions(POOL, {
        url: URL,
        interceptors: [first, second],
        defaultDeadlineMs: 5_000,
      });

      expect(options.interceptors).toEqual([first, second]);
      expect(Object.isFrozen(options.interceptors)).toBe(true);
      expect(options.defaultDeadlineMs).toBe(5_000);
      const defaults = resolvePoolOptions(POOL, { url: URL });
      expect(defaults.interceptors).toEqual([]);
      expect(defaults.defaultDeadlineMs).toBe(0);
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
