import type { Scenario } from '../src/sim/scenario.ts';

/**
 * What `npm start` runs: five servers, three clients, and a fault plan drawn fresh from every
 * seed by the swarm generator (every fault kind may appear), then a heal and a settle period in
 * which liveness is judged.
 */
export const defaultScenario: Scenario = {
  name: 'default',
  description: 'Five servers under a swarm of generated faults for 5 s of virtual time, then heal; all checkers on.',
  nodes: 5,
  faultWindowMs: 5000,
  generate: {},
  testRuns: 200,
};
