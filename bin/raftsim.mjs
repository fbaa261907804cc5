#!/usr/bin/env node
// The CLI is TypeScript run through tsx (ts-node fails on Node 20 with ESM); see README.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
