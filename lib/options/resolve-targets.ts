import { describeValue, type OptionChecker } from './option-checker.js';

/** URI schemes grpc-js resolves out of the box; anything else is read as `host[:port]`. */
const URI_SCHEMES = new Set(['dns', 'unix', 'unix-abstract', 'ipv4', 'ipv6', 'vsock', 'xds']);

/**
 * The pool's targets as a frozen list; every bad one is reported to `check` by its index.
 * With `secure` false (insecure credentials) a target must name its port: grpc-js would
 * otherwise dial 443, TLS's port, in plaintext.
 */
export function resolveUrls(
  check: OptionChecker,
  url: unknown,
  secure: boolean,
): readonly string[] {
  // Array.from turns holes of a sparse list into undefined, which the check below refuses.
  const list: unknown[] = Array.isArray(url) ? Array.from(url) : [url];
  if (list.length === 0) {
    check.problem('url', 'is an empty list: give at least one target such as "localhost:50051"');
  }
  list.forEach((target, index) => {
    const problem = targetProblem(target) ?? (secure ? undefined : portProblem(target as string));
    if (problem) {
      check.problem(
        Array.isArray(url) ? `url[${index}]` : 'url',
        `is ${describeValue(target)}: ${problem}`,
      );
    }
  });
  return Object.freeze(list as string[]);
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

/**
 * Why a well-formed target cannot be dialled without TLS: it names no port, so grpc-js
 * would use 443. `unix:`, `vsock:` and `xds:` targets have no port to give.
 */
function portProblem(target: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1]?.toLowerCase();
  let addresses: string[];
  if (scheme === 'dns') {
    // dns:host:port, dns:///host:port or dns://authority/host:port
    addresses = [target.slice(4).replace(/^\/\/[^/]*\//, '')];
  } else if (scheme === 'ipv4' || scheme === 'ipv6') {
    addresses = target.slice(5).split(',');
  } else if (scheme === undefined || !URI_SCHEMES.has(scheme)) {
    addresses = [target];
  } else {
    return undefined;
  }
  const portless = addresses.find((address) => !/^(\[[^\]]*\]|[^:[\]]+):\d+$/.test(address));
  return portless === undefined
    ? undefined
    : `no port: give host:port (without TLS credentials grpc-js would dial "${portless}" on 443, the TLS port)`;
}
