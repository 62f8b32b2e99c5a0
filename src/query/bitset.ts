/**
 * A fixed-size set of small integers (host positions in the inventory) over a Uint32Array. Set algebra
 * returns new bitsets; only `set`, used while building one, mutates.
 */
export class Bitset {
  private constructor(
    readonly size: number,
    private readonly words: Uint32Array,
  ) {}

  static empty(size: number): Bitset {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`invalid bitset size ${size}`);
    return new Bitset(size, new Uint32Array(Math.ceil(size / 32)));
  }

  static full(size: number): Bitset {
    const bits = Bitset.empty(size);
    bits.words.fill(0xffffffff);
    bits.clearTail();
    return bits;
  }

  static fromIndices(size: number, indices: Iterable<number>): Bitset {
    const bits = Bitset.empty(size);
    for (const i of indices) bits.set(i);
    return bits;
  }

  set(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new RangeError(`bit ${i} is outside a bitset of size ${this.size}`);
    this.words[i >>> 5] = (this.words[i >>> 5] as number) | (1 << (i & 31));
  }

  has(i: number): boolean {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) return false;
    return (((this.words[i >>> 5] as number) >>> (i & 31)) & 1) === 1;
  }

  and(other: Bitset): Bitset {
    return this.combine(other, (a, b) => a & b);
  }

  or(other: Bitset): Bitset {
    return this.combine(other, (a, b) => a | b);
  }

  andNot(other: Bitset): Bitset {
    return this.combine(other, (a, b) => a & ~b);
  }

  not(): Bitset {
    const words = this.words.map((w) => ~w);
    const bits = new Bitset(this.size, words);
    bits.clearTail();
    return bits;
  }

  count(): number {
    let total = 0;
    for (const word of this.words) {
      let w = word - ((word >>> 1) & 0x55555555);
      w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
      total += (((w + (w >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    return total;
  }

  isEmpty(): boolean {
    return this.words.every((w) => w === 0);
  }

  /** The members in ascending order. */
  indices(): number[] {
    const out: number[] = [];
    this.words.forEach((word, index) => {
      let w = word;
      while (w !== 0) {
        const lowest = w & -w;
        out.push(index * 32 + 31 - Math.clz32(lowest));
        w ^= lowest;
      }
    });
    return out;
  }

  private combine(other: Bitset, op: (a: number, b: number) => number): Bitset {
    if (other.size !== this.size) throw new RangeError(`bitset sizes differ: ${this.size} and ${other.size}`);
    return new Bitset(this.size, this.words.map((w, i) => op(w, other.words[i] as number)));
  }

  private clearTail(): void {
    const rest = this.size % 32;
    if (rest !== 0) this.words[this.words.length - 1] = (this.words[this.words.length - 1] as number) & (0xffffffff >>> (32 - rest));
  }
}
