import { scenarioSuite } from './suite.ts';

scenarioSuite(0, 2);
