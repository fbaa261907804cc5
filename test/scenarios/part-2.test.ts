import { scenarioSuite } from './suite.ts';

scenarioSuite(1, 2);
