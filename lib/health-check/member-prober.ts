import { connectivityState as State, status as Status, type ServiceError } from '@grpc/grpc-js';
import type { Member } from '../member/member.js';
import type { HealthClient, HealthResponse } from './health-client.js';

/** Probes judged per member: the last this many… */
const WINDOW = 5;
/** …of which at least this many must exist… */
const MIN_PROBES = 4;
/** …and at least this share have failed for an unhealthy verdict. */
const FAILED_SHARE = 0.6;

/** What a prober tells its pool. */
export interface ProbeListener {
  /** The server answered a health status. */
  served(member: Member, status: HealthResponse['status'], via: 'watch' | 'check'): void;
  /** Enough recent probes failed or timed out (see `WINDOW`). */
  unhealthy(member: Member): void;
  /** The server has no health service (`Check` is UNIMPLEMENTED). */
  unimplemented(details: string): void;
}

/** Settings a pool's probers share. `watch` turns false for all once one server lacks Watch. */
export interface ProbeSettings {
  readonly service: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  watch: boolean;
}

/**
 * Asks one member's server for its health over the member's own connection. A `Watch`
 * stream where the server has one (the server pushes each change: no polling), else a
 * `Check` every `intervalMs`. Probes run only while the member is connected: a member
 * that is not READY is out of rotation already, and its failures are grpc-js's to report.
 */
export class MemberProber {
  /** Outcomes of the last probes (true: failed), a ring of `WINDOW`. */
  private readonly outcomes: boolean[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private cancel: (() => void) | undefined = undefined;
  private stopped = false;

  constructor(
    readonly member: Member,
    private readonly client: HealthClient,
    private readonly settings: ProbeSettings,
    private readonly listener: ProbeListener,
  ) {}

  /** Starts probing after a random share of one interval, so members are not probed in step. */
  start(): void {
    this.schedule(Math.random() * this.settings.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.cancel?.();
    this.cancel = undefined;
    this.client.close();
  }

  /**
   * The member's connection left READY: the Watch on it ends (a stream must not hold a
   * going-away connection open for the server's whole grace), and probing waits for the
   * next connection (see {@link connected}).
   */
  connectionLost(): void {
    clearTimeout(this.timer);
    this.cancel?.();
    this.cancel = undefined;
  }

  /** The member is connected again: probe the new connection soon (within a tenth of an interval). */
  connected(): void {
    if (this.cancel === undefined) {
      this.schedule(Math.random() * (this.settings.intervalMs / 10));
    }
  }

  /** Forgets past outcomes: a fresh channel is judged afresh. */
  resetWindow(): void {
    this.outcomes.length = 0;
    this.next = 0;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (!this.stopped) {
      this.timer = setTimeout(() => this.probe(), delayMs).unref();
    }
  }

  private probe(): void {
    if (this.stopped) return;
    if (this.member.connection.state !== State.READY) {
      this.schedule(this.settings.intervalMs);
    } else if (this.settings.watch) {
      this.watch();
    } else {
      this.check();
    }
  }

  private check(): void {
    const { service, timeoutMs, intervalMs } = this.settings;
    this.client.Check({ service }, { deadline: Date.now() + timeoutMs }, (error, response) => {
      if (this.stopped) return;
      if (error?.code === Status.UNIMPLEMENTED) {
        this.listener.unimplemented(`${Status[error.code]}: ${error.details}`);
        return;
      }
      if (error?.code === Status.NOT_FOUND) {
        // The health spec's Check answer for a service the server does not know.
        this.record(false);
        this.listener.served(this.member, 'SERVICE_UNKNOWN', 'check');
      } else if (error || response === undefined) {
        this.record(true);
      } else {
        this.record(false);
        this.listener.served(this.member, response.status, 'check');
      }
      this.schedule(intervalMs);
    });
  }

  /**
   * One Watch stream. Its first answer within `timeoutMs` is a passed probe, none a failed
   * one; once it answers, it stays open and the server pushes every change. When it ends
   * (connection lost, server restarted) it is opened again after `intervalMs`.
   */
  private watch(): void {
    const { service, timeoutMs, intervalMs } = this.settings;
    const call = this.client.Watch({ service });
    let answered = false;
    let cancelled = false;
    this.cancel = () => {
      cancelled = true;
      call.cancel();
    };
    const firstAnswer = setTimeout(() => {
      this.cancel?.();
      this.record(true);
      this.schedule(intervalMs);
    }, timeoutMs).unref();
    call.on('data', (response: HealthResponse) => {
      if (!answered) {
        answered = true;
        clearTimeout(firstAnswer);
        this.record(false);
      }
      this.listener.served(this.member, response.status, 'watch');
    });
    call.on('error', (error: ServiceError) => {
      clearTimeout(firstAnswer);
      if (cancelled || this.stopped) return;
      // grpc-js ends the stream ('end') as well: this handler has dealt with it.
      cancelled = true;
      if (error.code === Status.UNIMPLEMENTED) {
        // The server has no Watch: every prober of the pool polls with Check from now on.
        this.settings.watch = false;
        this.check();
        return;
      }
      if (this.member.connection.state === State.READY) this.record(true);
      this.schedule(intervalMs);
    });
    call.on('end', () => {
      clearTimeout(firstAnswer);
      if (!cancelled && !this.stopped) this.schedule(intervalMs);
    });
  }

  private record(failed: boolean): void {
    this.outcomes[this.next] = failed;
    this.next = (this.next + 1) % WINDOW;
    if (!failed || this.outcomes.length < MIN_PROBES) return;
    const failures = this.outcomes.filter(Boolean).length;
    if (failures >= FAILED_SHARE * this.outcomes.length) {
      this.listener.unhealthy(this.member);
    }
  }
}
