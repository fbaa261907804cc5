/**
 * The node protocol (docs/protocol.md): how the simulator drives a Raft node that runs outside
 * the engine's thread — a child process in any language (src/adapter/process.ts), or a JS
 * library in a worker thread with virtual timers (src/adapter/threaded.ts).
 *
 * One event at a time: the simulator sends one event; the node answers with zero or more effects
 * and then exactly one `done`. The node never reads a clock or a random source of its own: every
 * event carries the node's virtual time, and `init` carries the seed of its random stream.
 * On the wire (processes) each event and each effect is one JSON object on one line.
 */
import type { Command, NodeId, Role, TimingConfig } from './contract.ts';

export const PROTOCOL_VERSION = 1;

// ---- events: simulator -> node --------------------------------------------------------------

export interface InitEvent {
  readonly type: 'init';
  readonly protocol: typeof PROTOCOL_VERSION;
  readonly id: NodeId;
  readonly nodes: readonly NodeId[];
  readonly members: readonly NodeId[];
  readonly timing: TimingConfig;
  readonly options: Readonly<Record<string, unknown>>;
  readonly now: number;
  /** Seed (uint32) of the node's own random stream, drawn from its seeded stream in the simulator. */
  readonly seed: number;
  /** Everything on the node's disk that survived, key -> value (JSON). */
  readonly storage: Readonly<Record<string, unknown>>;
}

export type NodeEvent =
  | InitEvent
  | { readonly type: 'message'; readonly now: number; readonly from: NodeId; readonly body: unknown }
  | { readonly type: 'timer'; readonly now: number; readonly id: number }
  | { readonly type: 'propose'; readonly now: number; readonly command: Command }
  | { readonly type: 'read'; readonly now: number; readonly read_id: number }
  | { readonly type: 'inspect'; readonly now: number }
  | { readonly type: 'crash'; readonly now: number };

// ---- effects: node -> simulator -------------------------------------------------------------

/** The log as the node shows it: entries above `from` replace what the simulator had cached. */
export interface WireLog {
  readonly snapshot_index: number;
  readonly snapshot_term: number;
  readonly last_index: number;
  /** Entries from index `from + 1` to `last_index`, as [term, command]. */
  readonly from: number;
  readonly entries: readonly (readonly [number, unknown])[];
}

export interface WireView {
  readonly type: 'view';
  readonly role: Role;
  readonly term: number;
  readonly voted_for?: NodeId | null;
  readonly commit_index?: number;
  readonly members?: readonly NodeId[];
  /** NodeView.joint: true while `members` is a joint configuration (C_old,new). */
  readonly joint?: boolean;
  readonly log?: WireLog;
}

export type NodeEffect =
  | { readonly type: 'send'; readonly to: NodeId; readonly body: unknown }
  | { readonly type: 'set_timer'; readonly id: number; readonly ms: number }
  | { readonly type: 'clear_timer'; readonly id: number }
  | { readonly type: 'apply'; readonly index: number; readonly command: unknown }
  | { readonly type: 'restore'; readonly snapshot: { readonly index: number; readonly data: unknown } }
  | { readonly type: 'put'; readonly key: string; readonly value: unknown }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'sync' }
  /** The answer to `propose` (accepted/index/term or leader_hint) or `read` (accepted). */
  | { readonly type: 'reply'; readonly accepted: boolean; readonly index?: number; readonly term?: number; readonly leader_hint?: NodeId }
  /** A read accepted earlier is linearizable at state >= index. */
  | { readonly type: 'read_ready'; readonly read_id: number; readonly index: number }
  | WireView
  /** Free text for the trace of a failing run; no effect on the simulation. */
  | { readonly type: 'log'; readonly text: string }
  /** The end of the answer to one event. `init`'s may list the node's optional capabilities. */
  | { readonly type: 'done'; readonly capabilities?: readonly ('read')[] };

/** What a transport hands back for one event: the effects, `done` last. */
export type Answer = readonly NodeEffect[];

const EFFECT_TYPES = new Set(['send', 'set_timer', 'clear_timer', 'apply', 'restore', 'put', 'delete', 'sync', 'reply', 'read_ready', 'view', 'log', 'done']);

/** Why an effect is malformed, or undefined when it is well formed. */
export function describeBadEffect(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${JSON.stringify(value)} is not a JSON object`;
  const e = value as Record<string, unknown>;
  if (typeof e.type !== 'string' || !EFFECT_TYPES.has(e.type)) {
    return `unknown effect type ${JSON.stringify(e.type)}; expected one of ${[...EFFECT_TYPES].join(', ')}`;
  }
  const need = (field: string, ok: (v: unknown) => boolean, what: string): string | undefined =>
    ok(e[field]) ? undefined : `"${e.type}" needs ${field} (${what}), got ${JSON.stringify(e[field])}`;
  const isInt = (v: unknown): boolean => Number.isInteger(v);
  switch (e.type) {
    case 'send':
      return need('to', (v) => typeof v === 'string', 'a node id') ?? need('body', (v) => v !== undefined, 'any JSON value');
    case 'set_timer':
      return need('id', isInt, 'an integer') ?? need('ms', (v) => typeof v === 'number' && v >= 0 && Number.isFinite(v), 'a number >= 0');
    case 'clear_timer':
      return need('id', isInt, 'an integer');
    case 'apply':
      return need('index', isInt, 'an integer');
    case 'put':
      return need('key', (v) => typeof v === 'string', 'a string') ?? need('value', (v) => v !== undefined, 'any JSON value');
    case 'delete':
      return need('key', (v) => typeof v === 'string', 'a string');
    case 'reply':
      return need('accepted', (v) => typeof v === 'boolean', 'true or false');
    case 'read_ready':
      return need('read_id', isInt, 'an integer') ?? need('index', isInt, 'an integer');
    case 'view':
      return need('role', (v) => typeof v === 'string', 'a role') ?? need('term', isInt, 'an integer');
    default:
      return undefined;
  }
}
