/**
 * The reference Raft, written only against src/adapter/contract.ts.
 *
 *   node.ts                 the server: roles, elections (PreVote, CheckQuorum, back-off),
 *                           replication, commit, apply, ReadIndex, membership, compaction, transfer
 *   log.ts                  the in-memory log, which is also the O(1) LogView of inspect()
 *   membership.ts           configurations and (joint) quorum arithmetic
 *   messages.ts             the wire messages (plain data)
 *   options.ts              RaftOptions and their parsing (unknown keys throw)
 *   storage/persistence.ts  on-disk layout, torn-write ordering, corruption-aware recovery
 *
 * Options (ClusterConfig.options): preVote (true), checkQuorum (true),
 * electionBackoff ({multiplier: 2, maxFactor: 4}, or false), snapshotThreshold (64),
 * maxEntriesPerAppend (64), electionNoop (true), backoff ('term-aware'), bugs ([]). Generated runs
 * draw them from `knobs` (options.ts RAFT_KNOBS).
 */
import type { ClusterConfig, ImplementationInfo, NodeHost, OptionsValidator, RaftFactory } from '../adapter/contract.ts';
import { RaftServer } from './node.ts';
import { parseRaftOptions } from './options.ts';

export type { RaftOptions } from './options.ts';
export { DEFAULT_RAFT_OPTIONS, parseRaftOptions } from './options.ts';
/** The options a generated run draws (see KnobSpace in src/adapter/contract.ts). */
export { RAFT_KNOBS as knobs } from './options.ts';
export { RaftServer } from './node.ts';

/** The reference Raft, as a factory the simulator calls for each incarnation of each node. */
export const createRaft: RaftFactory = (host: NodeHost, config: ClusterConfig) => new RaftServer(host, config);

/** Unknown options and bad values throw, naming the option (options.ts). */
export const validateOptions: OptionsValidator = (options) => void parseRaftOptions(options);

export const info: ImplementationInfo = { name: 'raftsim-reference', version: '0.1.0' };

export default createRaft;
