import type { Logger } from '@nestjs/common';
import type { Peer } from './peer.interface.js';

/**
 * Closes peers that have left the LRU (evicted, idle, dropped, invalidated, replaced) in
 * the background, and remembers the drains still running so shutdown can wait for them.
 */
export class PeerCloser {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /** Drains and closes `peer`; resolves when it is closed. Never rejects. */
  retire(peer: Peer): Promise<void> {
    const done: Promise<void> = peer
      .close()
      .catch((error: unknown) =>
        this.logger.warn(`closing ${peer.endpoint} failed: ${(error as Error).message}`),
      )
      .finally(() => this.running.delete(done));
    this.running.add(done);
    return done;
  }

  /** Resolves once every drain started so far has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.running]);
  }
}
