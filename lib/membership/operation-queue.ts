/**
 * The one queue of a pool's membership changes (add, retire, replace, close): each step runs
 * alone, in the order asked, and checks what it finds when its turn comes. Steps are short;
 * nothing waits for a connection or a drain inside one, so no change is held up by another's
 * network. Once closed, queued and later steps reject with the closing error.
 */
export class OperationQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private closedBy: (() => Error) | undefined = undefined;

  /** Runs `step` after every step asked before it. */
  run<T>(step: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      if (this.closedBy !== undefined) {
        throw this.closedBy();
      }
      return step();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** No step runs from now on; each rejects with `error()`. */
  close(error: () => Error): void {
    this.closedBy = error;
  }

  get closed(): boolean {
    return this.closedBy !== undefined;
  }
}
