import { connectivityState as State } from '@grpc/grpc-js';

interface Watcher {
  readonly current: State;
  readonly callback: (error?: Error) => void;
  readonly timer: NodeJS.Timeout | undefined;
}

/**
 * The pool's connectivity as one channel's: READY while any member is, else CONNECTING
 * while any member tries, TRANSIENT_FAILURE when all have failed, SHUTDOWN once closed.
 * Keeps grpc-js's watcher contract, so `client.waitForReady()` works on `pool.channel`.
 */
export class PoolConnectivity {
  private current: State;
  private watchers: Watcher[] = [];

  constructor(private readonly read: () => State) {
    this.current = read();
  }

  get state(): State {
    return this.current;
  }

  /** Re-reads the state; tells every watcher whose state it no longer is. */
  refresh(): void {
    const state = this.read();
    if (state === this.current) {
      return;
    }
    this.current = state;
    const stale = this.watchers.filter((watcher) => watcher.current !== state);
    this.watchers = this.watchers.filter((watcher) => watcher.current === state);
    for (const watcher of stale) {
      clearTimeout(watcher.timer);
      watcher.callback();
    }
  }

  /** grpc-js `Channel.watchConnectivityState` semantics. */
  watch(current: State, deadline: Date | number, callback: (error?: Error) => void): void {
    if (this.current === State.SHUTDOWN) {
      throw new Error('Channel has been shut down');
    }
    if (current !== this.current) {
      process.nextTick(callback);
      return;
    }
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    let timer: NodeJS.Timeout | undefined;
    if (deadlineMs !== Infinity) {
      const delay = deadlineMs - Date.now();
      if (!(delay > 0)) {
        process.nextTick(callback, new Error('Deadline passed without connectivity state change'));
        return;
      }
      timer = setTimeout(() => {
        this.watchers = this.watchers.filter((watcher) => watcher !== entry);
        callback(new Error('Deadline passed without connectivity state change'));
      }, delay);
    }
    const entry: Watcher = { current, callback, timer };
    this.watchers.push(entry);
  }
}
