import { Channel, credentials, type Interceptor } from '@grpc/grpc-js';
import type { OptionChecker } from './option-checker.js';

/** The pool's interceptors as a frozen list; each entry must be a function. */
export function resolveInterceptors(
  check: OptionChecker,
  interceptors: unknown,
): readonly Interceptor[] {
  if (interceptors === undefined) {
    return Object.freeze([]);
  }
  if (!Array.isArray(interceptors)) {
    check.report(
      'interceptors',
      interceptors,
      'a list of grpc-js interceptors, e.g. [(options, nextCall) => new InterceptingCall(nextCall(options))]',
    );
    return Object.freeze([]);
  }
  const list: unknown[] = Array.from(interceptors);
  list.forEach((interceptor, index) => {
    if (typeof interceptor !== 'function') {
      check.report(
        `interceptors[${index}]`,
        interceptor,
        'a grpc-js interceptor: a function (options, nextCall) => InterceptingCall',
      );
    }
  });
  return Object.freeze(list as Interceptor[]);
}

/**
 * The `grpc.service_config` channel arg (JSON) for a service config object, or `undefined`
 * when none is given. The JSON is tried on a throwaway grpc-js channel (made and closed at
 * once, it never connects): grpc-js has no public validator, and this way a bad retry policy
 * fails at startup naming the option instead of in every member's constructor.
 */
export function resolveServiceConfig(check: OptionChecker, config: unknown): string | undefined {
  if (config === undefined) {
    return undefined;
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    check.report(
      'serviceConfig',
      config,
      'a grpc-js service config object, e.g. { methodConfig: [{ name: [{}], retryPolicy: {...} }] }',
    );
    return undefined;
  }
  let json: string;
  try {
    json = JSON.stringify(config);
  } catch (error) {
    check.problem(
      'serviceConfig',
      `cannot be written as JSON (${(error as Error).message.split('\n')[0]}): give plain objects, arrays, strings, numbers and booleans`,
    );
    return undefined;
  }
  try {
    new Channel('127.0.0.1:1', credentials.createInsecure(), {
      'grpc.service_config': json,
    }).close();
  } catch (error) {
    check.problem(
      'serviceConfig',
      `is refused by grpc-js: ${(error as Error).message}; see https://github.com/grpc/grpc/blob/master/doc/service_config.md`,
    );
    return undefined;
  }
  return json;
}
