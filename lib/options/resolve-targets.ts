import { PoolConfigError } from '../errors/pool.errors.js';
import { describeValue } from './option-checker.js';

/** URI schemes grpc-js resolves out of the box; anything else is read as `host[:port]`. */
const URI_SCHEMES = new Set(['dns', 'unix', 'unix-abstract', 'ipv4', 'ipv6', 'vsock', 'xds']);

/** The pool's targets as a frozen list; throws {@link PoolConfigError} naming the bad one. */
export function resolveUrls(name: string, url: unknown): readonly string[] {
  // Array.from turns holes of a sparse list into undefined, which the check below refuses.
  const list: unknown[] = Array.isArray(url) ? Array.from(url) : [url];
  if (list.length === 0) {
    throw new PoolConfigError(
      name,
      'url',
      'is an empty list: give at least one target such as "localhost:50051"',
    );
  }
  return Object.freeze(
    list.map((target: unknown, index) => {
      const option = Array.isArray(url) ? `url[${index}]` : 'url';
      const problem = targetProblem(target);
      if (problem) {
        throw new PoolConfigError(name, option, `is ${describeValue(target)}: ${problem}`);
      }
      return target as string;
    }),
  );
}

/** Why a target is unusable, or `undefined` when grpc-js can take it. */
export function targetProblem(target: unknown): string | undefined {
  const expected = 'expected "host:port", "dns:///host:port" or "unix:///path"';
  if (typeof target !== 'string' || target.trim() === '' || /\s/.test(target)) {
    return expected;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1]?.toLowerCase();
  if (scheme !== undefined && URI_SCHEMES.has(scheme)) {
    return target.length > scheme.length + 1
      ? undefined
      : `${expected} (nothing follows "${scheme}:")`;
  }
  const hostPort = /^(\[[0-9a-f:.]+\]|[^:/[\]]+)(?::(\d+))?$/i.exec(target);
  if (!hostPort) {
    if (/^[^:/]+:$/.test(target)) {
      return `the port is missing; ${expected}`;
    }
    return scheme ? `unknown scheme "${scheme}:"; ${expected}` : expected;
  }
  const port = hostPort[2] === undefined ? 443 : Number(hostPort[2]);
  return port >= 1 && port <= 65535 ? undefined : `port must be from 1 to 65535; ${expected}`;
}
