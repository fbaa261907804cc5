import { threadedFactory } from '../../src/adapter/threaded.ts';

/**
 * @markwylde/liferaft under raftsim: each node in a worker thread with virtual timers
 * (src/adapter/threaded.ts), the node itself in ./node.ts.
 *   npx tsx src/cli/main.ts run --impl adapters/liferaft/adapter.ts
 */
export const createRaft = threadedFactory(new URL('./node.ts', import.meta.url));
export default createRaft;
