/**
 * A xorshift32 generator: a few ns a number where `Math.random()` costs about 10, and no
 * allocation. The state lives in an Int32Array: a 32-bit value stored in an object field
 * would leave V8's small-integer range and be boxed as a heap number on every step.
 * Good enough to spread load; not for anything that needs secrecy.
 */
export class XorShift32 {
  private readonly state = new Int32Array(1);

  constructor(seed = (Math.random() * 0xffffffff) >>> 0) {
    this.state[0] = seed | 0 || 0x9e3779b9;
  }

  /** A uniformly spread unsigned 32-bit integer. */
  next(): number {
    let x = this.state[0];
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state[0] = x;
    return x >>> 0;
  }

  /**
   * A whole number in `[0, bound)`, for `bound` from 1 to 2^31. Takes the top 31 bits so
   * the modulo stays an integer operation: on a full uint32, V8 may fall back to a
   * floating-point modulo costing tens of ns.
   */
  below(bound: number): number {
    return (this.next() >>> 1) % bound;
  }
}
