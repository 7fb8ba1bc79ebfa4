import { MAX_TIMER_MS } from '../grpc-pool.constants.js';
import type {
  GrpcPoolHealthProbeOptions,
  GrpcPoolOutlierEjectionOptions,
} from '../interfaces/grpc-pool-options.interface.js';
import type { OptionChecker } from './option-checker.js';

/** Defaults of `healthCheck` and `outlierEjection` (Envoy's and gRPC's usual figures). */
export const HEALTH_DEFAULTS = {
  service: '',
  intervalMs: 5_000,
  timeoutMs: 1_000,
  consecutiveFailures: 5,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
} as const;

/** `healthCheck` checked and filled in, or `undefined` when it is off. */
export function resolveHealthCheck(
  check: OptionChecker,
  raw: unknown,
): Readonly<Required<GrpcPoolHealthProbeOptions>> | undefined {
  if (raw === undefined) {
    return undefined;
  }
  const given = check.record('healthCheck', raw);
  check.knownKeys('healthCheck', given, ['service', 'intervalMs', 'timeoutMs']);
  const service = given.service ?? HEALTH_DEFAULTS.service;
  if (typeof service !== 'string') {
    check.report('healthCheck.service', service, "a service name as a string ('' for the server)");
  }
  return Object.freeze({
    service: String(service),
    intervalMs: check.integer(
      'healthCheck.intervalMs',
      given.intervalMs ?? HEALTH_DEFAULTS.intervalMs,
      1,
      MAX_TIMER_MS,
    ),
    timeoutMs: check.integer(
      'healthCheck.timeoutMs',
      given.timeoutMs ?? HEALTH_DEFAULTS.timeoutMs,
      1,
      MAX_TIMER_MS,
    ),
  });
}

/** `outlierEjection` checked and filled in, or `undefined` when it is off. */
export function resolveOutlierEjection(
  check: OptionChecker,
  raw: unknown,
): Readonly<Required<GrpcPoolOutlierEjectionOptions>> | undefined {
  if (raw === undefined) {
    return undefined;
  }
  const given = check.record('outlierEjection', raw);
  check.knownKeys('outlierEjection', given, [
    'consecutiveFailures',
    'baseEjectionMs',
    'maxEjectionMs',
  ]);
  const baseEjectionMs = check.integer(
    'outlierEjection.baseEjectionMs',
    given.baseEjectionMs ?? HEALTH_DEFAULTS.baseEjectionMs,
    1,
    MAX_TIMER_MS,
  );
  return Object.freeze({
    consecutiveFailures: check.integer(
      'outlierEjection.consecutiveFailures',
      given.consecutiveFailures ?? HEALTH_DEFAULTS.consecutiveFailures,
      1,
      1_000_000,
    ),
    baseEjectionMs,
    maxEjectionMs: check.integer(
      'outlierEjection.maxEjectionMs',
      given.maxEjectionMs ?? Math.max(HEALTH_DEFAULTS.maxEjectionMs, baseEjectionMs),
      baseEjectionMs,
      MAX_TIMER_MS,
    ),
  });
}
