import { promises as dns } from 'node:dns';
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';

/** One address a name resolves to, as `dns.promises.lookup(host, { all: true })` gives it. */
export interface LookupAddress {
  /** An IPv4 or IPv6 literal, e.g. `'10.0.0.7'` or `'::1'`. */
  readonly address: string;
  /** 4 or 6; read from `address` when left out. */
  readonly family?: number;
}

/**
 * How a pool turns a host name into addresses. The default is Node's resolver, as grpc-js
 * uses it: `dns.promises.lookup(host, { all: true })` (so `/etc/hosts` counts).
 *
 * @example lookup: async (host) => [{ address: '10.0.0.7' }, { address: '10.0.0.8' }]
 */
export type AddressLookup = (host: string) => Promise<readonly LookupAddress[]>;

/** A pool target the pool resolves itself: a host name (not an IP literal) and a port. */
export interface SpreadName {
  /** The target as the user gave it, e.g. `'dns:///orders.default.svc:50051'`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** What members send as `:authority` (and, with TLS, verify): the target's `host[:port]`. */
  readonly authority: string;
}

/** Schemes grpc-js resolves without DNS (or through xDS): never spread by the pool. */
const OTHER_SCHEMES = new Set(['unix', 'unix-abstract', 'ipv4', 'ipv6', 'vsock', 'xds']);

/** Node's resolver, every address, in the order the system gives them. */
export const nodeLookup: AddressLookup = (host) =>
  dns.lookup(host, { all: true, order: 'verbatim' });

/**
 * Per process, so that replicas of one app order a name's addresses differently and their
 * first members land on different backends instead of all on the first address.
 */
const PROCESS_SEED = randomInt(0x7fffffff);

/**
 * The name and port behind `url` when the pool should resolve it and spread its members:
 * `host:port` or `dns:` targets whose host is a name. `undefined` for IP literals, `unix:`,
 * `ipv4:`/`ipv6:` lists, `xds:`, and `dns://server/…` (a chosen DNS server only grpc-js asks).
 */
export function spreadName(url: string): SpreadName | undefined {
  let rest = url;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'dns') {
    rest = url.slice(4);
    if (rest.startsWith('//')) {
      const authority = /^\/\/([^/]*)\//.exec(rest);
      if (!authority || authority[1] !== '') {
        return undefined;
      }
      rest = rest.slice(3);
    }
  } else if (scheme !== undefined && OTHER_SCHEMES.has(scheme)) {
    return undefined;
  }
  const hostPort = /^([^:/[\]]+)(?::(\d+))?$/.exec(rest);
  if (!hostPort || isIP(hostPort[1]) !== 0) {
    return undefined;
  }
  return {
    url,
    host: hostPort[1],
    port: hostPort[2] === undefined ? 443 : Number(hostPort[2]),
    authority: rest,
  };
}

/** The grpc-js target that dials exactly `address` on `port`: `ipv4:…` or `ipv6:[…]:…`. */
export function dialTarget(address: LookupAddress, port: number): string {
  const family = address.family === 6 || isIP(address.address) === 6 ? 6 : 4;
  return family === 6 ? `ipv6:[${address.address}]:${port}` : `ipv4:${address.address}:${port}`;
}

/** `ipv4:10.0.0.7:50051` → `10.0.0.7:50051`, as status() and events show an address. */
export function addressLabel(dial: string): string {
  return dial.replace(/^ipv[46]:/, '');
}

/**
 * `dials` without duplicates, in this process's own order: a stable shuffle keyed by the
 * process seed, so one process keeps its order across resolutions and another has its own.
 */
export function seededOrder(dials: readonly string[]): string[] {
  return [...new Set(dials)]
    .map((dial) => ({ dial, key: mix(PROCESS_SEED, dial) }))
    .sort((a, b) => a.key - b.key || (a.dial < b.dial ? -1 : 1))
    .map(({ dial }) => dial);
}

/** FNV-1a of `text` from `seed`: cheap, stable, well spread. */
function mix(seed: number, text: string): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash;
}
