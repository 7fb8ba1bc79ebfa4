import type { MemberLifecycle } from '../interfaces/pool-status.interface.js';

/**
 * A member's life, as one state table (`docs/internals.md` draws it):
 *
 * | state        | meaning                                             | in the slot table |
 * |--------------|-----------------------------------------------------|-------------------|
 * | `pending`    | made, not dialling yet (its name has not resolved)  | no                |
 * | `connecting` | its channel is not READY (IDLE, CONNECTING, TRANSIENT_FAILURE) | no     |
 * | `standby`    | READY, a replacement not yet swapped in             | no                |
 * | `held`       | READY and kept, but out for a reason (a flag set)   | no                |
 * | `serving`    | READY, kept, no flag set                            | yes (exactly then)|
 * | `draining`   | leaving: its calls in flight finish                 | no                |
 * | `closed`     | its channel closed, its counts folded into the pool | no                |
 *
 * Only {@link Member.transition} moves a member between these, and only along
 * {@link TRANSITIONS}; a caller states the states it expects to leave, in the style of
 * grpc-js's `Subchannel.transitionToState`.
 */
export type Lifecycle = MemberLifecycle;

/** Every state the table allows a member to go to from each state. */
export const TRANSITIONS: Readonly<Record<Lifecycle, readonly Lifecycle[]>> = {
  pending: ['connecting', 'draining'],
  connecting: ['standby', 'held', 'serving', 'draining'],
  standby: ['connecting', 'held', 'serving', 'draining'],
  held: ['connecting', 'serving', 'draining'],
  serving: ['connecting', 'held', 'draining'],
  draining: ['closed'],
  closed: [],
};

/** The states in which a member is up: its channel READY, whatever holds it out. */
export const CONNECTED: readonly Lifecycle[] = ['standby', 'held', 'serving'];
/** The states of a member the pool keeps (not a replacement in the making, not leaving). */
export const LIVE: readonly Lifecycle[] = ['pending', 'connecting', 'standby', 'held', 'serving'];

/** What decides a live member's state: the inputs its owner and its channel give it. */
export interface LifecycleInputs {
  /** Its channel was started. */
  readonly started: boolean;
  /** Its channel is READY. */
  readonly ready: boolean;
  /** It is a kept member, not a replacement waiting to be swapped in. */
  readonly admitted: boolean;
  /** Some reason holds it out of rotation (health, ejection). */
  readonly heldOut: boolean;
}

/** The state a live member's inputs put it in. A pure function: the model test drives it. */
export function settledState({ started, ready, admitted, heldOut }: LifecycleInputs): Lifecycle {
  if (!started) return 'pending';
  if (!ready) return 'connecting';
  if (!admitted) return 'standby';
  return heldOut ? 'held' : 'serving';
}
