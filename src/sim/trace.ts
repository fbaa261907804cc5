import type { NodeId } from '../adapter/contract.ts';

/** Kinds of trace entries; the numeric code is what the hash sees. */
export const TRACE_KINDS = {
  deliver: 1,
  drop: 2,
  timer: 3,
  fault: 4,
  crash: 5,
  restart: 6,
  request: 7,
  reply: 8,
  state: 9,
  apply: 10,
  invoke: 11,
  complete: 12,
  heal: 13,
  violation: 14,
} as const;
export type TraceKind = keyof typeof TRACE_KINDS;

/** One recorded event. Compact keys keep long traces small in reports. */
export interface TraceEntry {
  /** Step number. */
  readonly i: number;
  /** Virtual time, ms. */
  readonly t: number;
  readonly k: TraceKind;
  /** The node (or client) the event happened at. */
  readonly n?: NodeId;
  /** The sender, for messages. */
  readonly f?: NodeId;
  /** Send time, for delivered messages. */
  readonly s?: number;
  /** Details: the message, the fault action, the new role and term, … */
  readonly d?: unknown;
}

export type TraceMode = 'hash' | 'full';

/**
 * The run's trace: a rolling 64-bit hash over every event (the determinism witness) and, in
 * 'full' mode, the entries themselves. In 'hash' mode nothing is kept but the hash, so memory stays
 * flat however long the run; in 'full' mode the first `limit` entries are kept and the rest counted.
 */
export class Trace {
  /** The hash state [lo, hi], in int32 slots (plain fields would hold boxed doubles). */
  private readonly state = new Int32Array([0x811c9dc5, 0x01000193]);
  readonly entries: TraceEntry[] = [];
  omitted = 0;

  constructor(
    readonly mode: TraceMode,
    private readonly limit = 200_000,
  ) {}

  get full(): boolean {
    return this.mode === 'full';
  }

  /** Folds numbers into the hash. Times are hashed at microsecond resolution. */
  mix(a: number, b: number, c: number, d: number): void {
    const micros = Math.round(a * 1000);
    // word() five times, unrolled on locals (this runs several times per step).
    const state = this.state;
    let lo = state[0]!;
    let hi = state[1]!;
    let x = micros | 0;
    lo = Math.imul(lo ^ x, 0x01000193);
    hi = Math.imul(hi ^ (lo >>> 7) ^ x, 0x5bd1e995);
    hi ^= hi >>> 15;
    x = (micros / 4294967296) | 0;
    lo = Math.imul(lo ^ x, 0x01000193);
    hi = Math.imul(hi ^ (lo >>> 7) ^ x, 0x5bd1e995);
    hi ^= hi >>> 15;
    x = b | 0;
    lo = Math.imul(lo ^ x, 0x01000193);
    hi = Math.imul(hi ^ (lo >>> 7) ^ x, 0x5bd1e995);
    hi ^= hi >>> 15;
    x = c | 0;
    lo = Math.imul(lo ^ x, 0x01000193);
    hi = Math.imul(hi ^ (lo >>> 7) ^ x, 0x5bd1e995);
    hi ^= hi >>> 15;
    x = d | 0;
    lo = Math.imul(lo ^ x, 0x01000193);
    hi = Math.imul(hi ^ (lo >>> 7) ^ x, 0x5bd1e995);
    hi ^= hi >>> 15;
    state[0] = lo;
    state[1] = hi;
  }

  /** Folds a string (a message type, a fault kind) into the hash. */
  mixString(s: string): void {
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
  }

  record(entry: TraceEntry): void {
    if (this.entries.length < this.limit) this.entries.push(entry);
    else this.omitted++;
  }

  get hash(): string {
    return (this.state[1]! >>> 0).toString(16).padStart(8, '0') + (this.state[0]! >>> 0).toString(16).padStart(8, '0');
  }

  private word(x: number): void {
    const state = this.state;
    let lo = state[0]! ^ x;
    lo = Math.imul(lo, 0x01000193);
    let hi = state[1]! ^ (lo >>> 7) ^ x;
    hi = Math.imul(hi, 0x5bd1e995);
    hi ^= hi >>> 15;
    state[0] = lo;
    state[1] = hi;
  }
}

/** A short name for a message in traces: its `type` or `kind` field when it has one. */
export function messageType(message: unknown): string {
  if (typeof message === 'object' && message !== null) {
    const m = message as { type?: unknown; kind?: unknown };
    if (typeof m.type === 'string') return m.type;
    if (typeof m.kind === 'string') return m.kind;
    return message.constructor?.name ?? 'object';
  }
  return typeof message;
}
