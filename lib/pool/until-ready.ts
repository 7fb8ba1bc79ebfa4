/**
 * Resolves with `ready`, or rejects with `errors.timedOut()` after `timeoutMs` or with
 * `errors.closed()` when `closing` aborts first. Leaves no timer or listener behind.
 */
export async function untilReady(
  ready: Promise<void>,
  timeoutMs: number,
  closing: AbortSignal,
  errors: { timedOut: () => Error; closed: () => Error },
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onClose: (() => void) | undefined;
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(errors.timedOut()), timeoutMs);
        onClose = () => reject(errors.closed());
        closing.addEventListener('abort', onClose, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onClose) {
      closing.removeEventListener('abort', onClose);
    }
  }
}
