/**
 * Resolves once `ready` does, or rejects with `errors.timedOut()` after `timeoutMs` or with
 * `errors.closed()` when `closing` aborts first. Leaves no timer, listener or waiter behind:
 * `ready` gets a signal that aborts when the wait ends, whichever way it ends.
 */
export async function untilReady(
  ready: (done: AbortSignal) => Promise<void>,
  timeoutMs: number,
  closing: AbortSignal,
  errors: { timedOut: () => Error; closed: () => Error },
): Promise<void> {
  const done = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onClose: (() => void) | undefined;
  try {
    await Promise.race([
      ready(done.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(errors.timedOut()), timeoutMs);
        onClose = () => reject(errors.closed());
        closing.addEventListener('abort', onClose, { once: true });
      }),
    ]);
  } finally {
    done.abort();
    clearTimeout(timer);
    if (onClose) {
      closing.removeEventListener('abort', onClose);
    }
  }
}
