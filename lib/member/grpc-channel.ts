import { Metadata, type ChannelInterface, type ChannelOptions } from '@grpc/grpc-js';

/*
 * What a member needs to know about grpc-js channels beyond their public contract: how to
 * close one for good, the reconnect backoff it reads from its args, and where it keeps the
 * last connection error.
 */

/**
 * Closes a grpc-js channel for good. grpc-js (1.14) hands an IP-literal target's first name
 * resolution over on setImmediate and does not cancel it in close(): a channel closed in the
 * tick it was made connects anyway, goes READY after close() and stays so, owned by no one.
 * Closing once more after that turn ends it (on a channel already shut down it does nothing).
 */
export function closeChannel(channel: ChannelInterface): void {
  channel.close();
  setImmediate(() => channel.close());
}

/** A member's reconnect backoff, as grpc-js reads it from the channel args. */
export function reconnectBackoff(options: Readonly<ChannelOptions>): {
  initialMs: number;
  maxMs: number;
} {
  return {
    initialMs: Number(options['grpc.initial_reconnect_backoff_ms'] ?? 1_000),
    maxMs: Number(options['grpc.max_reconnect_backoff_ms'] ?? 120_000),
  };
}

/**
 * grpc-js keeps the last connection error inside its picker and shows it only in a failed
 * call's status. A call without waitForReady on a channel in TRANSIENT_FAILURE fails at
 * once, locally, with that status: read it from there (`onError`, on one line). No byte
 * hits the network.
 */
export function readLastConnectionError(
  channel: ChannelInterface,
  timeoutMs: number,
  onError: (error: string) => void,
): void {
  const call = channel.createCall(
    '/nestjs_grpc_pool.Probe/LastError',
    Date.now() + timeoutMs,
    undefined,
    null,
    undefined,
  );
  call.start(new Metadata(), {
    onReceiveMetadata: () => {},
    onReceiveMessage: () => {},
    onReceiveStatus: ({ details }) => onError(connectionError(details)),
  });
  call.halfClose();
}

/**
 * The connection error inside the status grpc-js gives a call on a failed channel
 * ("No connection established. Last error: … Resolution note: …"), on one line and without
 * the timestamp grpc-js appends to some errors, so that equal errors read the same.
 */
function connectionError(details: string): string {
  const error = /Last error: ([\s\S]*?)(?:\. Resolution note:|$)/.exec(details)?.[1] ?? details;
  return error
    .replace(/\s*\(\d{4}-\d\d-\d\dT[\d:.]+Z\)\s*$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}
