import type { Scenario } from '../src/sim/scenario.ts';

/**
 * What `npm start` runs: five servers, three clients, and a fault plan drawn fresh from every
 * seed by the swarm generator (every fault kind may appear), then a heal and a settle period in
 * which liveness is judged.
 */
export const defaultScenario: Scenario = {
  name: 'default',
  description: 'Five servers under a swarm of generated faults for 8 s of virtual time, then heal; all checkers on.',
  nodes: 5,
  // 8 s: room for several leader-churn and minority-leader episodes (each a few seconds long).
  faultWindowMs: 8000,
  generate: {},
  testRuns: 200,
};
