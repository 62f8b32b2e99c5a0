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

  /* One loop per operation, not a callback per word: a 100,000-host fleet's sets cost tens of thousands of these. */
  and(other: Bitset): Bitset {
    const [a, b, out] = this.operands(other);
    for (let i = 0; i < out.length; i++) out[i] = (a[i] as number) & (b[i] as number);
    return new Bitset(this.size, out);
  }

  or(other: Bitset): Bitset {
    const [a, b, out] = this.operands(other);
    for (let i = 0; i < out.length; i++) out[i] = (a[i] as number) | (b[i] as number);
    return new Bitset(this.size, out);
  }

  andNot(other: Bitset): Bitset {
    const [a, b, out] = this.operands(other);
    for (let i = 0; i < out.length; i++) out[i] = (a[i] as number) & ~(b[i] as number);
    return new Bitset(this.size, out);
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
    const words = this.words;
    for (let index = 0; index < words.length; index++) {
      let w = words[index] as number;
      while (w !== 0) {
        const lowest = w & -w;
        out.push(index * 32 + 31 - Math.clz32(lowest));
        w ^= lowest;
      }
    }
    return out;
  }

  private operands(other: Bitset): [Uint32Array, Uint32Array, Uint32Array] {
    if (other.size !== this.size) throw new RangeError(`bitset sizes differ: ${this.size} and ${other.size}`);
    return [this.words, other.words, new Uint32Array(this.words.length)];
  }

  private clearTail(): void {
    const rest = this.size % 32;
    if (rest !== 0) this.words[this.words.length - 1] = (this.words[this.words.length - 1] as number) & (0xffffffff >>> (32 - rest));
  }
}
