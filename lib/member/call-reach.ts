import { constants as http2 } from 'node:http2';
import type { Call } from './grpc-types.js';

/**
 * How far a call grpc-js ended got, as the HTTP/2 layer saw it:
 * - `unsent`: no attempt ever had an HTTP/2 stream (no connection, the channel closed or
 *   left READY while the call waited for a pick): the call never left the client;
 * - `refused`: some attempt's stream was refused by the server (RST_STREAM REFUSED_STREAM,
 *   or opened past a GOAWAY's last stream id), none was anything else: no server processed it;
 * - `sent`: some attempt's stream ended otherwise: a server may have seen it;
 * - `unknown`: the call is not shaped as this grpc-js's calls are: treat as `sent`.
 */
export type CallReach = 'unsent' | 'refused' | 'sent' | 'unknown';

/*
 * grpc-js 1.14 knows this and tells no one above its retry layer: the load-balancing call
 * labels each attempt NOT_STARTED / REFUSED (from the subchannel call's `rstCode`) /
 * PROCESSED, and the retrying call strips the label before the status reaches the
 * channel's call ("Explicitly construct status object to remove progress field"); a
 * failed pick ("No connection established") is even labelled PROCESSED. So this reads the
 * call's private chain, once, at the end of a call that ended UNAVAILABLE, never on the hot
 * path: ResolvingCall.child (RetryingCall, null before name resolution and filters) →
 * .underlyingCalls[].call (LoadBalancingCall per attempt) → .child (Http2SubchannelCall,
 * null until a stream was made) → .finalStatus.rstCode (set by a stream that closed with
 * an HTTP/2 error code and no trailers). Any other shape answers `unknown`, so a grpc-js
 * upgrade that moves these fields turns re-picking off rather than sending a call twice;
 * test/upstream/upstream-contracts.spec.ts pins each answer on real calls and fails loudly
 * when the shape changes.
 */
interface ResolvingCallShape {
  child?: { underlyingCalls?: unknown } | null;
}
interface AttemptShape {
  call?: { child?: { finalStatus?: { rstCode?: unknown } | null } | null };
}

/** How far `call` (a grpc-js channel's call, after its final status) got; see {@link CallReach}. */
export function callReach(call: Call): CallReach {
  const resolving = call as unknown as ResolvingCallShape;
  if (!('child' in resolving)) {
    return 'unknown';
  }
  const retrying = resolving.child;
  if (retrying === null) {
    return 'unsent'; // ended before name resolution or filters gave it an attempt
  }
  const attempts = retrying?.underlyingCalls;
  if (!Array.isArray(attempts) || attempts.length === 0) {
    return 'unknown';
  }
  let reach: CallReach = 'unsent';
  for (const attempt of attempts as AttemptShape[]) {
    const balancing = attempt?.call;
    if (balancing === undefined || !('child' in balancing)) {
      return 'unknown';
    }
    const stream = balancing.child;
    if (stream === null) {
      continue; // this attempt never got a stream
    }
    if (stream === undefined || !('finalStatus' in stream)) {
      return 'unknown';
    }
    if (stream.finalStatus?.rstCode !== http2.NGHTTP2_REFUSED_STREAM) {
      return 'sent';
    }
    reach = 'refused';
  }
  return reach;
}
