/**
 * The most connection attempts one grpc-js channel may make within `windowMs` while every
 * attempt fails, given its reconnect backoff: the first attempt at once, then one after
 * each delay: the first delay `initialMs`, each next one 1.6 times the last (as jittered)
 * capped at `maxMs`, then jittered by ±20 % (grpc-js backoff-timeout.ts). Takes every delay
 * at its shortest, so a channel that keeps to its backoff never makes more.
 */
export function maxConnectAttempts(windowMs: number, initialMs: number, maxMs: number): number {
  let attempts = 1;
  let elapsed = 0;
  let shortest = initialMs;
  while (elapsed + shortest <= windowMs) {
    elapsed += shortest;
    attempts++;
    shortest = Math.min(shortest * 1.6, maxMs) * 0.8;
  }
  return attempts;
}
