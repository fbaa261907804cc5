import { fileURLToPath } from 'node:url';
import { processFactory } from '../../src/adapter/process.ts';

/**
 * The Python Raft of this folder as a raftsim implementation: one `python3 raft_node.py`
 * process per node, spoken to over the node protocol (docs/protocol.md).
 *   npx tsx src/cli/main.ts run --impl examples/python/adapter.ts
 */
export const createRaft = processFactory('python3', [fileURLToPath(new URL('./raft_node.py', import.meta.url))]);
export default createRaft;
