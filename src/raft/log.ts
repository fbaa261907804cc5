import type { LogView } from '../adapter/contract.ts';

/** One log entry. Never mutated once created, so leader and followers may share the object. */
export interface Entry {
  readonly term: number;
  readonly command: unknown;
}

/** The raft-internal commands that sit in the log beside client commands. */
export interface NoopCommand {
  readonly $raft: 'noop';
}
export const NOOP: NoopCommand = Object.freeze({ $raft: 'noop' });

/**
 * The in-memory log: entries after the snapshot, indexed from snapshotIndex + 1. It is itself
 * the LogView handed to inspect(), so producing a view costs nothing.
 */
export class RaftLog implements LogView {
  snapshotIndex = 0;
  snapshotTerm = 0;
  private entries: Entry[] = [];

  get lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  get lastTerm(): number {
    const n = this.entries.length;
    return n === 0 ? this.snapshotTerm : this.entries[n - 1]!.term;
  }

  /** Index of the first entry still held in the log (snapshotIndex + 1, even when empty). */
  get firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  /** Term at index; snapshotTerm at snapshotIndex, 0 at index 0, -1 outside what is known. */
  termAt(index: number): number {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    const entry = this.entries[index - this.snapshotIndex - 1];
    return entry === undefined ? (index === 0 ? 0 : -1) : entry.term;
  }

  commandAt(index: number): unknown {
    return this.entries[index - this.snapshotIndex - 1]?.command;
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - this.snapshotIndex - 1];
  }

  /** Entries [from, to] (inclusive), as a fresh array: messages must not share our array. */
  slice(from: number, to: number): Entry[] {
    return this.entries.slice(from - this.snapshotIndex - 1, to - this.snapshotIndex);
  }

  append(entry: Entry): number {
    this.entries.push(entry);
    return this.lastIndex;
  }

  /** Drops every entry at index >= from. */
  truncateFrom(from: number): void {
    const keep = from - this.snapshotIndex - 1;
    if (keep < this.entries.length) this.entries.length = Math.max(0, keep);
  }

  /** The snapshot now covers everything up to index; entries after it stay. */
  compactTo(index: number, term: number): void {
    const drop = index - this.snapshotIndex;
    if (drop >= this.entries.length) this.entries = [];
    else if (drop > 0) this.entries = this.entries.slice(drop);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
  }

  /** Replaces everything: a snapshot whose last entry we do not hold. */
  reset(index: number, term: number): void {
    this.entries = [];
    this.snapshotIndex = index;
    this.snapshotTerm = term;
  }

  /** First index of the run of entries with the same term as `index` (for the conflict hint). */
  firstIndexOfTerm(index: number): number {
    const term = this.termAt(index);
    let i = index;
    while (i - 1 > this.snapshotIndex && this.termAt(i - 1) === term) i--;
    return i;
  }

  /** Last index <= from whose term is `term`, or 0 if the log holds no entry of that term there. */
  lastIndexOfTerm(term: number, from: number): number {
    for (let i = Math.min(from, this.lastIndex); i > this.snapshotIndex; i--) {
      const t = this.termAt(i);
      if (t === term) return i;
      if (t < term) return 0;
    }
    return 0;
  }
}
