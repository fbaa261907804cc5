import type { NodeId } from '../adapter/contract.ts';

/**
 * A cluster configuration. `old` is set only in the joint phase C_old,new: then every decision
 * (election and commit) needs a majority of `voters` (C_new) AND a majority of `old`.
 * Learners receive the log but never vote and never count.
 */
export interface Config {
  readonly voters: readonly NodeId[];
  readonly old?: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** A configuration entry in the log. */
export interface ConfigCommand {
  readonly $raft: 'config';
  readonly config: Config;
}

export function isConfigCommand(command: unknown): command is ConfigCommand {
  return typeof command === 'object' && command !== null && (command as { $raft?: unknown }).$raft === 'config';
}

/**
 * Dense numbers for server ids, so that per-server state (the leader's progress) lives in arrays
 * indexed by slot instead of Maps keyed by id: the leader looks peers up on every
 * acknowledgement, and an array read is several times cheaper than a Map lookup.
 */
export class ServerSlots {
  private readonly ids: NodeId[];

  constructor(nodes: readonly NodeId[]) {
    this.ids = [...nodes];
  }

  /** The slot of `id`; an id seen for the first time gets the next free slot. */
  of(id: NodeId): number {
    // A scan: clusters are small, and ids are mostly the very string objects of the cluster list.
    const ids = this.ids;
    for (let i = 0; i < ids.length; i++) if (ids[i] === id) return i;
    ids.push(id);
    return ids.length - 1;
  }
}

/** A configuration with what the hot paths need precomputed. */
export class ActiveConfig {
  /** Voters of both halves (what inspect() reports as members). */
  readonly members: readonly NodeId[];
  /** Everyone but `self` that the leader replicates to (voters of both halves and learners). */
  readonly peers: readonly NodeId[];
  readonly joint: boolean;
  /** The slots (see ServerSlots) of `config.voters` and of `config.old`, for the quorum arithmetic over progress arrays. */
  private readonly voterSlots: readonly number[];
  private readonly oldSlots: readonly number[] | undefined;

  constructor(
    readonly config: Config,
    readonly index: number,
    self: NodeId,
    slots: ServerSlots = new ServerSlots([]),
  ) {
    const members = new Set(config.voters);
    for (const id of config.old ?? []) members.add(id);
    this.members = [...members].sort();
    const all = new Set(members);
    for (const id of config.learners) all.add(id);
    all.delete(self);
    this.peers = [...all].sort();
    this.joint = config.old !== undefined;
    this.voterSlots = config.voters.map((id) => slots.of(id));
    this.oldSlots = config.old?.map((id) => slots.of(id));
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters.includes(id) || (this.config.old?.includes(id) ?? false);
  }

  isLearner(id: NodeId): boolean {
    return !this.isVoter(id) && this.config.learners.includes(id);
  }

  /** True when `has` holds for a majority of C_new and, when joint, of C_old too. */
  hasQuorum(has: (id: NodeId) => boolean): boolean {
    return majority(this.config.voters, has) && (this.config.old === undefined || majority(this.config.old, has));
  }

  /**
   * The highest index that a quorum has matched: per half, the (n/2+1)-th largest matchIndex;
   * joint takes the smaller of the two halves.
   */
  quorumMatch(matchOf: (id: NodeId) => number): number {
    const a = quorumIndex(this.config.voters, matchOf);
    return this.config.old === undefined ? a : Math.min(a, quorumIndex(this.config.old, matchOf));
  }

  /**
   * hasQuorum with has(id) = (id === self || progress[slot of id]?.readAck >= seq), without a
   * closure (ReadIndex rounds). `progress` is indexed by the slots this configuration was built with.
   */
  hasReadQuorum(progress: readonly ({ readonly readAck: number } | undefined)[], selfSlot: number, seq: number): boolean {
    return readMajority(this.voterSlots, progress, selfSlot, seq) && (this.oldSlots === undefined || readMajority(this.oldSlots, progress, selfSlot, seq));
  }

  /** hasQuorum with has(id) = (id === self): whether this server alone is a quorum. */
  selfIsQuorum(self: NodeId): boolean {
    return selfMajority(this.config.voters, self) && (this.config.old === undefined || selfMajority(this.config.old, self));
  }

  /**
   * quorumMatch with matchOf(id) = (id === self ? selfMatch : progress[slot of id]?.match ?? 0),
   * without a closure per call (the leader asks on every acknowledgement).
   */
  quorumMatchOf(progress: readonly ({ readonly match: number } | undefined)[], selfSlot: number, selfMatch: number): number {
    const a = quorumIndexOf(this.voterSlots, progress, selfSlot, selfMatch);
    return this.oldSlots === undefined ? a : Math.min(a, quorumIndexOf(this.oldSlots, progress, selfSlot, selfMatch));
  }

  /** BUG joint-consensus-union-quorum (src/raft/bugs.ts): one majority over C_old ∪ C_new. */
  unionHasQuorum(has: (id: NodeId) => boolean): boolean {
    return majority(this.members, has);
  }

  /** BUG joint-consensus-union-quorum (src/raft/bugs.ts): one quorum index over C_old ∪ C_new. */
  unionQuorumMatch(matchOf: (id: NodeId) => number): number {
    return quorumIndex(this.members, matchOf);
  }
}

function majority(voters: readonly NodeId[], has: (id: NodeId) => boolean): boolean {
  if (voters.length === 0) return false;
  let yes = 0;
  for (const id of voters) if (has(id)) yes++;
  return yes * 2 > voters.length;
}

/** The largest m such that a majority of voters have matchOf >= m; O(n^2) without allocation, n is small. */
function quorumIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  const need = Math.floor(voters.length / 2) + 1;
  let best = 0;
  for (let i = 0; i < voters.length; i++) {
    const m = matchOf(voters[i]!);
    if (m <= best) continue;
    let count = 0;
    for (let j = 0; j < voters.length; j++) if (matchOf(voters[j]!) >= m) count++;
    if (count >= need) best = m;
  }
  return best;
}

function readMajority(voterSlots: readonly number[], progress: readonly ({ readonly readAck: number } | undefined)[], selfSlot: number, seq: number): boolean {
  const n = voterSlots.length;
  if (n === 0) return false;
  let yes = 0;
  for (let i = 0; i < n; i++) {
    const slot = voterSlots[i]!;
    if (slot === selfSlot || (progress[slot]?.readAck ?? 0) >= seq) yes++;
  }
  return yes * 2 > n;
}

function selfMajority(voters: readonly NodeId[], self: NodeId): boolean {
  if (voters.length === 0) return false;
  let yes = 0;
  for (const id of voters) if (id === self) yes++;
  return yes * 2 > voters.length;
}

/** Scratch space for quorumIndexOf: configurations are small, and the leader asks on every acknowledgement. */
const scratch: number[] = [];

/**
 * quorumIndex over the leader's progress array, without a closure: the largest m such that a
 * majority have match >= m is the majority-th largest match (0 if that is below 0, or no voters).
 */
function quorumIndexOf(voterSlots: readonly number[], progress: readonly ({ readonly match: number } | undefined)[], selfSlot: number, selfMatch: number): number {
  const n = voterSlots.length;
  const need = Math.floor(n / 2) + 1;
  if (need > n) return 0;
  for (let i = 0; i < n; i++) {
    const slot = voterSlots[i]!;
    scratch[i] = slot === selfSlot ? selfMatch : (progress[slot]?.match ?? 0);
  }
  // Partial selection sort, descending: after `need` rounds scratch[need - 1] is the need-th largest.
  for (let i = 0; i < need; i++) {
    let max = i;
    for (let j = i + 1; j < n; j++) if (scratch[j]! > scratch[max]!) max = j;
    const t = scratch[i]!;
    scratch[i] = scratch[max]!;
    scratch[max] = t;
  }
  const m = scratch[need - 1]!;
  return m > 0 ? m : 0;
}

export function sameMembers(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

/** How many servers differ between two voter sets (added plus removed). */
export function changeSize(from: readonly NodeId[], to: readonly NodeId[]): number {
  let n = 0;
  for (const id of from) if (!to.includes(id)) n++;
  for (const id of to) if (!from.includes(id)) n++;
  return n;
}
