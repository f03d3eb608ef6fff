/** A binary min-heap by a numeric key; ties come out in the order they went in. */
export class MinHeap<T> {
  private readonly entries: Array<{ key: number; seq: number; value: T }> = [];
  private seq = 0;

  get size(): number {
    return this.entries.length;
  }

  push(key: number, value: T): void {
    const entries = this.entries;
    entries.push({ key, seq: this.seq++, value });
    let i = entries.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The smallest key, without taking it (undefined when empty). */
  peekKey(): number | undefined {
    return this.entries[0]?.key;
  }

  pop(): T | undefined {
    const entries = this.entries;
    if (entries.length === 0) return undefined;
    const top = entries[0];
    const last = entries.pop()!;
    if (entries.length > 0) {
      entries[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < entries.length && this.less(left, smallest)) smallest = left;
        if (right < entries.length && this.less(right, smallest)) smallest = right;
        if (smallest === i) break;
        this.swap(i, smallest);
        i = smallest;
      }
    }
    return top.value;
  }

  private less(a: number, b: number): boolean {
    const x = this.entries[a];
    const y = this.entries[b];
    // Stryker disable next-line EqualityOperator: equivalent, two entries never share a seq
    return x.key < y.key || (x.key === y.key && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    const entries = this.entries;
    [entries[a], entries[b]] = [entries[b], entries[a]];
  }
}
