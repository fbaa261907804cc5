// Entry of every raftsim worker thread (src/adapter/channel.ts). It is CommonJS on purpose:
// an ES-module worker entry needs the main thread's event loop to finish loading, and the main
// thread is blocked in Atomics.wait while it waits for the worker. tsx's CommonJS hook loads the
// TypeScript module named in workerData synchronously, inside the worker.
'use strict';
const { workerData } = require('node:worker_threads');
require('tsx/cjs/api').register();
require(workerData.script);
