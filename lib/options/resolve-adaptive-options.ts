import type { ChannelInterface } from '@grpc/grpc-js';
import { MAX_POOL_SIZE, MAX_TIMER_MS, PEAK_EWMA_DEFAULTS } from '../grpc-pool.constants.js';
import type {
  PeakEwmaTuning,
  GrpcPoolOptions,
  ResolvedAutoscaleOptions,
  ResolvedResetBudget,
} from '../interfaces/grpc-pool-options.interface.js';
import type { OptionChecker } from './option-checker.js';

/** Defaults of `autoscale` (see `GrpcPoolAutoscaleOptions`). */
export const AUTOSCALE_DEFAULTS = {
  streamsPerMember: 100,
  scaleUpAt: 0.7,
  scaleDownAt: 0.6,
  cooldownMs: 1_000,
  sampleIntervalMs: 30_000,
  windows: 3,
} as const;

/** Defaults of connection renewal. */
export const RENEWAL_DEFAULTS = {
  maxConnectionAgeJitter: 0.125,
  warmUpTimeoutMs: 5_000,
} as const;

/**
 * Defaults of `resetBudget`: Node's HTTP/2 server (nghttp2) allows 1,000 RST_STREAM frames
 * of burst per connection, refilled at 33 a second. A member is renewed once a quarter of
 * its budget is left.
 */
export const RESET_BUDGET_DEFAULTS = {
  burst: 1_000,
  perSecond: 33,
  renewBelow: 0.25,
} as const;

const AUTOSCALE_KEYS = ['min', 'max', ...Object.keys(AUTOSCALE_DEFAULTS)];
const RESET_BUDGET_KEYS = Object.keys(RESET_BUDGET_DEFAULTS);

/** The adaptive options, checked: autoscaling and renewal (both off unless asked for). */
export interface AdaptiveOptions {
  readonly autoscale: ResolvedAutoscaleOptions | undefined;
  readonly maxConnectionAgeMs: number;
  readonly maxConnectionAgeJitter: number;
  readonly warmUp: ((channel: ChannelInterface) => Promise<unknown>) | undefined;
  readonly warmUpTimeoutMs: number;
  readonly resetBudget: ResolvedResetBudget | undefined;
}

/** Checks `autoscale`, `maxConnectionAgeMs`, its jitter and `warmUp`, reporting to `check`. */
export function resolveAdaptiveOptions(
  check: OptionChecker,
  options: GrpcPoolOptions,
): AdaptiveOptions {
  const warmUp = options.warmUp;
  if (warmUp !== undefined && typeof warmUp !== 'function') {
    check.report('warmUp', warmUp, 'a function (channel) => Promise, e.g. a cheap RPC');
  }
  const maxConnectionAgeMs = options.maxConnectionAgeMs ?? 0;
  if (maxConnectionAgeMs !== 0) {
    check.integer('maxConnectionAgeMs', maxConnectionAgeMs, 1_000, MAX_TIMER_MS);
  }
  return {
    resetBudget: resolveResetBudget(check, options.resetBudget),
    autoscale: resolveAutoscale(check, options.autoscale),
    maxConnectionAgeMs,
    maxConnectionAgeJitter: fraction(
      check,
      'maxConnectionAgeJitter',
      options.maxConnectionAgeJitter ?? RENEWAL_DEFAULTS.maxConnectionAgeJitter,
      0,
      0.5,
    ),
    warmUp: typeof warmUp === 'function' ? warmUp : undefined,
    warmUpTimeoutMs: check.integer(
      'warmUpTimeoutMs',
      options.warmUpTimeoutMs ?? RENEWAL_DEFAULTS.warmUpTimeoutMs,
      1,
      MAX_TIMER_MS,
    ),
  };
}

function resolveResetBudget(check: OptionChecker, raw: unknown): ResolvedResetBudget | undefined {
  if (raw === false) {
    return undefined;
  }
  const given = raw === undefined || raw === true ? {} : check.record('resetBudget', raw);
  check.knownKeys('resetBudget', given, RESET_BUDGET_KEYS);
  const burst = check.integer(
    'resetBudget.burst',
    given.burst ?? RESET_BUDGET_DEFAULTS.burst,
    1,
    1_000_000,
  );
  const perSecond = fraction(
    check,
    'resetBudget.perSecond',
    given.perSecond ?? RESET_BUDGET_DEFAULTS.perSecond,
    0,
    1_000_000,
  );
  const renewBelow = fraction(
    check,
    'resetBudget.renewBelow',
    given.renewBelow ?? RESET_BUDGET_DEFAULTS.renewBelow,
    0.01,
    0.99,
  );
  return Object.freeze({ burst, perSecond, margin: Math.max(1, Math.round(burst * renewBelow)) });
}

function resolveAutoscale(
  check: OptionChecker,
  raw: unknown,
): ResolvedAutoscaleOptions | undefined {
  if (raw === undefined) {
    return undefined;
  }
  const given = check.record('autoscale', raw);
  check.knownKeys('autoscale', given, AUTOSCALE_KEYS);
  const min = check.integer('autoscale.min', given.min, 1, MAX_POOL_SIZE);
  const max = check.integer('autoscale.max', given.max, min, MAX_POOL_SIZE);
  const scaleUpAt = fraction(
    check,
    'autoscale.scaleUpAt',
    given.scaleUpAt ?? AUTOSCALE_DEFAULTS.scaleUpAt,
    0.01,
    1,
  );
  const scaleDownAt = fraction(
    check,
    'autoscale.scaleDownAt',
    given.scaleDownAt ?? AUTOSCALE_DEFAULTS.scaleDownAt,
    0.01,
    1,
  );
  if (scaleDownAt >= scaleUpAt) {
    check.problem(
      'autoscale.scaleDownAt',
      `is ${scaleDownAt}: expected less than autoscale.scaleUpAt (${scaleUpAt}), or the pool would shrink into a size it grows out of again`,
    );
  }
  return Object.freeze({
    min,
    max,
    streamsPerMember: check.integer(
      'autoscale.streamsPerMember',
      given.streamsPerMember ?? AUTOSCALE_DEFAULTS.streamsPerMember,
      1,
      1_000_000,
    ),
    scaleUpAt,
    scaleDownAt,
    cooldownMs: check.integer(
      'autoscale.cooldownMs',
      given.cooldownMs ?? AUTOSCALE_DEFAULTS.cooldownMs,
      0,
      MAX_TIMER_MS,
    ),
    sampleIntervalMs: check.integer(
      'autoscale.sampleIntervalMs',
      given.sampleIntervalMs ?? AUTOSCALE_DEFAULTS.sampleIntervalMs,
      100,
      MAX_TIMER_MS,
    ),
    windows: check.integer(
      'autoscale.windows',
      given.windows ?? AUTOSCALE_DEFAULTS.windows,
      1,
      1_000,
    ),
  });
}

/** `value` when it is a finite number in `[min, max]`; otherwise reports it and returns `min`. */
function fraction(
  check: OptionChecker,
  option: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    check.report(option, value, `a number from ${min} to ${max}`);
    return min;
  }
  return value;
}

/** The `'peak-ewma'` tuning with its defaults, or `undefined` for other strategies. */
export function resolvePeakEwma(
  check: OptionChecker,
  strategy: unknown,
  raw: unknown,
): Readonly<Required<PeakEwmaTuning>> | undefined {
  const given = check.record('peakEwma', raw);
  check.knownKeys('peakEwma', given, Object.keys(PEAK_EWMA_DEFAULTS));
  if (strategy !== 'peak-ewma') {
    if (raw !== undefined) {
      check.problem(
        'peakEwma',
        "applies only to strategy: 'peak-ewma'; remove it or set that strategy",
      );
    }
    return undefined;
  }
  const tauMs = check.integer(
    'peakEwma.tauMs',
    given.tauMs ?? PEAK_EWMA_DEFAULTS.tauMs,
    1,
    MAX_TIMER_MS,
  );
  const decayIntervalMs = check.integer(
    'peakEwma.decayIntervalMs',
    given.decayIntervalMs ?? PEAK_EWMA_DEFAULTS.decayIntervalMs,
    1,
    MAX_TIMER_MS,
  );
  const costExponent = given.costExponent ?? PEAK_EWMA_DEFAULTS.costExponent;
  if (costExponent !== 1 && costExponent !== 2) {
    check.report('peakEwma.costExponent', costExponent, '1 or 2');
  }
  return Object.freeze({ tauMs, decayIntervalMs, costExponent: costExponent === 2 ? 2 : 1 });
}
