#!/usr/bin/env node
// The `sluice` command's entry (package.json "bin"); see main.ts.
import { main } from './main.js';
import { startWorkersWithFullYoungGeneration } from '../runtime/index.js';

// Before any worker thread starts: subtasks scavenge about half as often (runtime/worker-young-generation.ts).
startWorkersWithFullYoungGeneration();

process.exitCode = await main(process.argv.slice(2));
