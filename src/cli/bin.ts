#!/usr/bin/env node
// The `sluice` command's entry (package.json "bin"); see main.ts.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
