import type { ChannelInterface } from '@grpc/grpc-js';

/*
 * grpc-js's call-level types, derived from its public `ChannelInterface` rather than imported
 * from `@grpc/grpc-js/build/src/...`: deep paths are not part of its API (`auth-context`
 * exists only since 1.13), and published `.d.ts` files that reach into them break consumers
 * on a minor release. These follow whatever grpc-js is installed.
 */

/** A call as grpc-js's `Channel.createCall` returns it. */
export type Call = ReturnType<ChannelInterface['createCall']>;
/** What a call reports to: metadata, messages and the one final status. */
export type InterceptingListener = Parameters<Call['start']>[1];
/** The per-message flags grpc-js passes along with a message. */
export type MessageContext = Parameters<Call['sendMessageWithContext']>[0];
/** The server call a client call may propagate its deadline and cancellation from. */
export type ServerSurfaceCall = Parameters<ChannelInterface['createCall']>[3];
/** A channel's channelz reference. */
export type ChannelRef = ReturnType<ChannelInterface['getChannelzRef']>;
/** The TLS details of a call's connection (grpc-js >= 1.13; `null` before). */
export type AuthContext = ReturnType<Call['getAuthContext']>;
