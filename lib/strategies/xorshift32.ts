/**
 * A xorshift32 generator: a few ns a number where `Math.random()` costs about 10, and no
 * allocation. Good enough to spread load; not for anything that needs secrecy.
 *
 * The state is a plain number field holding an int32: one load and one store a step. On
 * 64-bit Node (no pointer compression) an int32 is a small integer, stored in the field as
 * is; where pointer compression narrows those, V8 keeps the field as an unboxed double.
 * Neither allocates (the typed array it replaces cost two more dependent loads a step).
 */
export class XorShift32 {
  private state: number;

  constructor(seed = randomSeed()) {
    this.state = seed | 0 || 0x9e3779b9 | 0;
  }

  /** A uniformly spread unsigned 32-bit integer. */
  next(): number {
    const x = xorshift32(this.state);
    this.state = x;
    return x >>> 0;
  }

  /**
   * A whole number in `[0, bound)`, for `bound` from 1 to 2^32: the high part of
   * `next() × bound` (Lemire's multiply-shift), a multiply and a floor where `%` is an
   * integer division (~25 cycles on the machines we measured, twice per power-of-two pick).
   * The bias against some values is below bound / 2^32: nothing for spreading load.
   */
  below(bound: number): number {
    // Math.floor, not `| 0`: right up to bound 2^32 (see `scaled` for the int32 form).
    return Math.floor(this.next() * bound * 2.3283064365386963e-10);
  }
}

/** A random non-zero int32 to start a generator from. */
export function randomSeed(): number {
  return (Math.random() * 0xffffffff) | 0 || 0x9e3779b9 | 0;
}

/**
 * One xorshift32 step (shifts 13, 17, 5): the next state after `x`, a non-zero int32 (for a
 * non-zero `x`). For a strategy that keeps its state in a number field of its own.
 */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  return x ^ (x << 5);
}

/**
 * A whole number in `[0, bound)` from the state `x`, for `bound` from 1 to 2^31, as an
 * int32 (the `| 0`), so what follows stays integer arithmetic: multiply-shift, as in
 * {@link XorShift32.below}.
 */
export function scaled(x: number, bound: number): number {
  return ((x >>> 0) * bound * 2.3283064365386963e-10) | 0;
}
