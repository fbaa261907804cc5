/** Anything the queue orders: earliest virtual time first, ties broken by insertion sequence. */
export interface Scheduled {
  time: number;
  seq: number;
}

/**
 * A binary min-heap ordered by (time, seq). `seq` is assigned on push from a counter, so two
 * events at the same virtual time pop in the order they were scheduled: the order depends on
 * the seed only, never on object identity.
 *
 * The sort keys live beside the heap in typed arrays (times[i], seqs[i] are the keys of
 * items[i]), so sifting compares unboxed doubles in two dense arrays instead of loading two
 * fields from each event object it passes. The event's own `time` and `seq` are still set: they
 * are what the caller reads.
 */
export class EventQueue<E extends Scheduled> {
  private items: (E | undefined)[] = [];
  private times = new Float64Array(64);
  /** Sequence numbers as doubles: exact far beyond any run's length (2^53). */
  private seqs = new Float64Array(64);
  private n = 0;
  private nextSeq = 0;

  get size(): number {
    return this.n;
  }

  push(event: E): void {
    const seq = this.nextSeq++;
    event.seq = seq;
    const time = event.time;
    let i = this.n++;
    if (i === this.times.length) this.grow();
    const items = this.items;
    const times = this.times;
    const seqs = this.seqs;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      // seq is the largest yet, so an equal time never moves the new event above its parent.
      if (pt <= time) break;
      items[i] = items[parent];
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      i = parent;
    }
    items[i] = event;
    times[i] = time;
    seqs[i] = seq;
  }

  peek(): E | undefined {
    return this.n === 0 ? undefined : this.items[0];
  }

  /** The earliest time in the queue, or Infinity when it is empty. */
  peekTime(): number {
    return this.n === 0 ? Infinity : this.times[0]!;
  }

  pop(): E | undefined {
    if (this.n === 0) return undefined;
    const items = this.items;
    const top = items[0];
    const n = --this.n;
    if (n === 0) {
      items[0] = undefined;
      return top;
    }
    const times = this.times;
    const seqs = this.seqs;
    const last = items[n];
    const lastTime = times[n]!;
    const lastSeq = seqs[n]!;
    items[n] = undefined;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      let ct = times[child]!;
      let cs = seqs[child]!;
      const right = child + 1;
      if (right < n) {
        const rt = times[right]!;
        const rs = seqs[right]!;
        if (rt < ct || (rt === ct && rs < cs)) {
          child = right;
          ct = rt;
          cs = rs;
        }
      }
      if (lastTime < ct || (lastTime === ct && lastSeq < cs)) break;
      items[i] = items[child];
      times[i] = ct;
      seqs[i] = cs;
      i = child;
    }
    items[i] = last;
    times[i] = lastTime;
    seqs[i] = lastSeq;
    return top;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
    const seqs = new Float64Array(this.seqs.length * 2);
    seqs.set(this.seqs);
    this.seqs = seqs;
  }
}
