import type { FaultAction, FaultPlan } from '../faults/plan.ts';
import { messageType, type TraceEntry } from '../sim/trace.ts';

/** Trace kinds the short form shows: what changed, not every message. */
const SHORT_KINDS = new Set(['state', 'fault', 'heal', 'invoke', 'complete', 'violation']);

/** A readable trace, one line per entry: all of them (verbose) or the short form. */
export function formatTrace(trace: readonly TraceEntry[], verbose: boolean): string[] {
  const lines: string[] = [];
  for (const entry of trace) {
    if (!verbose && !SHORT_KINDS.has(entry.k)) continue;
    lines.push(formatEntry(entry));
  }
  return lines;
}

export function formatEntry(e: TraceEntry): string {
  const time = `${e.t.toFixed(3).padStart(10)} ms`;
  const step = `#${e.i}`.padStart(8);
  const who = (e.n ?? '').padEnd(4);
  return `${time} ${step}  ${who} ${e.k.padEnd(9)} ${describeEntry(e)}`.trimEnd();
}

export function describeEntry(e: TraceEntry): string {
  const d = e.d as Record<string, unknown> | undefined;
  switch (e.k) {
    case 'state':
      return `${String(d?.role)} term ${String(d?.term)}${d?.commitIndex !== undefined ? ` commit ${String(d.commitIndex)}` : ''}`;
    case 'fault': {
      const f = d as { action: FaultAction; outcome: string };
      return `${describeAction(f.action)} → ${f.outcome}`;
    }
    case 'heal':
      return 'end of the fault window: network healed, every node up, clocks true';
    case 'invoke':
      return describeOp(d);
    case 'complete': {
      const c = d as { op?: unknown; output?: unknown; status?: unknown };
      return `${describeOp(c.op)} → ${String(c.status)}${c.output !== undefined ? ` ${JSON.stringify(c.output)}` : ''}`;
    }
    case 'violation':
      return `VIOLATION ${String(d?.invariant)}: ${String(d?.message)}`;
    case 'deliver':
    case 'drop':
      return `${messageType(e.d)} from ${e.f ?? '?'}${e.s !== undefined ? ` (sent ${e.s.toFixed(3)})` : ''} ${brief(e.d)}`;
    case 'apply':
      return d && 'snapshot' in d ? `snapshot up to ${String(d.snapshot)}` : `index ${String(d?.index)} ${brief(d?.command)}`;
    case 'request':
      return `client request ${brief(e.d)}`;
    case 'reply':
      return `reply to client ${brief(e.d)}`;
    default:
      return e.d === undefined ? '' : brief(e.d);
  }
}

function describeOp(op: unknown): string {
  const o = op as { type?: string; key?: string; value?: string } | undefined;
  if (!o || typeof o !== 'object') return String(op);
  return o.type === 'get' ? `get ${o.key}` : `${o.type} ${o.key}=${JSON.stringify(o.value)}`;
}

function brief(value: unknown, max = 120): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** One fault action in words. */
export function describeAction(a: FaultAction): string {
  switch (a.kind) {
    case 'partition':
      return `partition ${a.groups.map((g) => g.join(',')).join(' | ')}`;
    case 'isolate':
      return `isolate ${a.node}`;
    case 'cut':
      return `cut ${a.from} -> ${a.to}`;
    case 'bridge':
      return `bridge (only ${a.links.map(([x, y]) => `${x}-${y}`).join(' ')})`;
    case 'heal':
      return 'heal the network';
    case 'crash':
      return `crash ${a.node}${a.loss && a.loss !== 'all' ? ` (loss: ${a.loss})` : ''}`;
    case 'restart':
      return `restart ${a.node}`;
    case 'corrupt':
      return `corrupt ${a.node}'s disk`;
    case 'link': {
      const { at: _at, kind: _kind, from, to, ...rates } = a;
      return `link ${from ?? '*'} -> ${to ?? '*'} ${JSON.stringify(rates)}`;
    }
    case 'skew':
      return `clock of ${a.node} at ${a.rate}x`;
    case 'membership':
      return `members := ${a.members.join(',')}`;
    case 'transfer':
      return `transfer leadership to ${a.to}`;
    case 'burst':
      return `burst of ${a.operations} client operations`;
    case 'load':
      return `clients' pace: ${[a.thinkMs && `think ${a.thinkMs.minMs}-${a.thinkMs.maxMs} ms`, a.requestTimeoutMs !== undefined && `attempt timeout ${a.requestTimeoutMs} ms`].filter(Boolean).join(', ')}`;
  }
}

/** A plan, one action a line, after the knobs it drew (if any). */
export function formatPlan(plan: FaultPlan): string[] {
  const knobs = describeKnobs(plan);
  const head = knobs === undefined ? [] : [`knobs: ${knobs}`];
  if (plan.actions.length === 0) return [...head, '(no fault actions)'];
  return [...head, ...plan.actions.map((a) => `${String(a.at).padStart(6)} ms  ${describeAction(a)}`)];
}

/** "electionNoop=false, maxEntriesPerAppend=1": the implementation options the plan's run drew, or undefined. */
export function describeKnobs(plan: FaultPlan): string | undefined {
  if (plan.knobs === undefined) return undefined;
  return Object.entries(plan.knobs)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(', ');
}
