import type { ChannelOptions } from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import { reconnectBackoff } from '../member/grpc-channel.js';
import type { ResolvedPoolOptions } from '../interfaces/grpc-pool-options.interface.js';
import {
  addressLabel,
  dialTarget,
  seededOrder,
  type SpreadName,
} from '../options/resolve-addresses.js';
import { publish } from '../telemetry/pool-events.js';
import type { Member } from '../member/member.js';
import { chooseAddress, earliestRetry, isDown, refusedAgain, type Refusal } from './spread-plan.js';

/**
 * One name the pool resolves: its addresses in this process's order, and which refused.
 * A refused address is down for a backoff (the pool's, grpc-js-like: initial, x1.6, capped
 * at the re-resolution interval, jittered), then dialled again (a probe) and whenever nothing
 * better is left; a member READY on it clears it.
 */
export class SpreadTarget {
  /** Channel args of members dialling one of its addresses: the name as authority and TLS name. */
  readonly args: Readonly<ChannelOptions>;
  /** Literal grpc-js targets (`ipv4:…`, `ipv6:[…]:…`), process-seeded order. */
  dials: string[] = [];
  /** Addresses that refused or failed a member and have not served one since, with their backoff. */
  readonly refused = new Map<string, Refusal>();
  /** The resolver's last error, until a resolution succeeds. */
  error: string | undefined = undefined;
  private retryTimer: NodeJS.Timeout | undefined = undefined;
  private stopped = false;

  constructor(
    readonly name: SpreadName,
    private readonly options: ResolvedPoolOptions,
    private readonly logger: LoggerService,
    /** Told when a backoff expires: the members may go back. */
    private readonly onRetry: () => void,
  ) {
    const own = options.channelOptions;
    const args: ChannelOptions = {};
    // The user's own authority or TLS name win over the target's.
    if (own['grpc.default_authority'] === undefined) {
      args['grpc.default_authority'] = name.authority;
    }
    if (options.credentials._isSecure() && own['grpc.ssl_target_name_override'] === undefined) {
      args['grpc.ssl_target_name_override'] = name.host;
    }
    this.args = args;
  }

  /** Addresses not down now. */
  live(now: number): string[] {
    return this.dials.filter((dial) => !isDown(this.refused, dial, now));
  }

  /**
   * Records that `dial` refused or failed a member, with one more step of its backoff, unless
   * it is down already (members that were on it, or a probe sent while nothing better was
   * left, say nothing new), and arms the timer that tries it again.
   */
  refuse(dial: string): void {
    const now = Date.now();
    if (isDown(this.refused, dial, now)) {
      return;
    }
    const backoff = reconnectBackoff(this.options.channelOptions);
    // A timed resolution tries every address anyway: no backoff longer than its interval.
    backoff.maxMs = Math.min(backoff.maxMs, this.options.resolveIntervalMs);
    this.refused.set(dial, refusedAgain(this.refused.get(dial), now, backoff));
    this.armRetry();
  }

  /** A member is READY on `dial`: it serves again. Whether it had been refused. */
  served(dial: string): boolean {
    return this.refused.delete(dial);
  }

  /** Resolves the name; `timer`: every backoff ends now (its count of refusals stays). */
  async resolve(reason: string): Promise<void> {
    const { host, port, url } = this.name;
    const pool = this.options.name;
    try {
      const found = await this.options.lookup(host);
      if (!Array.isArray(found) || found.length === 0) {
        throw new Error(`lookup ${host} returned no address`);
      }
      const dials = seededOrder(found.map((address) => dialTarget(address, port)));
      const added = dials.filter((dial) => !this.dials.includes(dial));
      const removed = this.dials.filter((dial) => !dials.includes(dial));
      this.dials = dials;
      this.error = undefined;
      // A timed resolution gives every address another chance now (a backend back from a
      // restart); the move's new member is its probe, and the old member stays till it is READY.
      const now = Date.now();
      for (const [dial, refusal] of [...this.refused]) {
        if (!dials.includes(dial)) this.refused.delete(dial);
        else if (reason === 'timer') this.refused.set(dial, { ...refusal, retryAt: now });
      }
      this.armRetry();
      if (added.length > 0 || removed.length > 0) {
        this.logger.log(`${url} resolves to ${dials.map(addressLabel).join(', ')}`);
        publish('addressesChanged', () => ({
          pool,
          target: url,
          addresses: dials.map(addressLabel),
          added: added.map(addressLabel),
          removed: removed.map(addressLabel),
        }));
      }
    } catch (caught) {
      const error = `could not resolve ${host}: ${(caught as Error).message}`;
      if (this.error !== error) {
        this.logger.warn(`${url}: ${error}; keeping its last addresses`);
      }
      this.error = error;
      publish('addressResolveFailed', () => ({ pool, target: url, error }));
    }
  }

  /** Where a member of this name goes now, given the kept `members` (see `chooseAddress`). */
  choose(
    members: readonly Member[],
    options: { except?: string; orEarliest?: boolean },
  ): string | undefined {
    const used = (dial: string) =>
      members.filter(
        (member) => member.target === this.name.url && member.connection.address === dial,
      ).length;
    return chooseAddress(this.dials, this.refused, used, Date.now(), options);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  /** Sets the retry timer to the first backoff still running, if any. */
  private armRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const now = Date.now();
    const pending = this.dials.filter((dial) => isDown(this.refused, dial, now));
    const first = earliestRetry(pending, this.refused);
    if (first === undefined || this.stopped) {
      return;
    }
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.armRetry();
        this.onRetry();
      },
      this.refused.get(first)!.retryAt - now,
    ).unref();
  }
}
