#!/usr/bin/env node
// The `sluice` command; the code lives in dist/ (run `npm run build` after a fresh clone).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
