import type { ClusterConfig, ImplementationInfo, NodeHost, RaftFactory } from '../adapter/contract.ts';
import { RaftServer } from './node.ts';

export type { RaftOptions } from './options.ts';
export { DEFAULT_RAFT_OPTIONS, parseRaftOptions } from './options.ts';
export { RaftServer } from './node.ts';

/** The reference Raft, as a factory the simulator calls for each incarnation of each node. */
export const createRaft: RaftFactory = (host: NodeHost, config: ClusterConfig) => new RaftServer(host, config);

export const info: ImplementationInfo = { name: 'raftsim-reference', version: '0.1.0' };

export default createRaft;
