// Job modules for the file format and monitored-directory tests. args[0] names the
// scenario, args[1] holds JSON parameters; every scenario is deterministic given them.
import { defineJob } from '../../src/index.js';
import type { CsvReadOptions, CsvWriteOptions } from '../../src/index.js';

interface Params {
  input: string;
  output: string;
  read?: CsvReadOptions;
  write?: CsvWriteOptions;
  /** Monitored directory: list it this often. */
  intervalMs?: number;
  /** Busy-wait this many ms every `pauseEvery` records, so that kills land mid-file. */
  pauseMs?: number;
  pauseEvery?: number;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

export default defineJob((env, args) => {
  const scenario = args[0];
  const p = JSON.parse(args[1] ?? '{}') as Params;
  switch (scenario) {
    case 'csv-to-jsonl':
      env.readCsv(p.input, p.read).uid('csv').writeAsJsonLines(p.output).uid('jsonl');
      return;
    case 'jsonl-to-csv':
      env.readJsonLines(p.input).uid('jsonl').writeAsCsv(p.output, p.write).uid('csv');
      return;
    case 'write-json': {
      // A record JSON cannot hold, among good ones.
      env.fromSequence(0, 9).map((i) => ({ i, ratio: i === 7 ? 0 / 0 : i / 2 })).writeAsJsonLines(p.output);
      return;
    }
    case 'misspelled-option':
      env.readCsv(p.input, { delimeter: ';' } as CsvReadOptions).writeAsJsonLines(p.output);
      return;
    case 'monitored': {
      let n = 0;
      env
        .readTextFile(p.input, { monitorIntervalMs: p.intervalMs ?? 50 })
        .uid('files')
        .map((line: string) => {
          if (p.pauseMs !== undefined && ++n % (p.pauseEvery ?? 100) === 0) Atomics.wait(pause, 0, 0, p.pauseMs);
          return line;
        })
        .uid('map')
        .writeAsText(p.output)
        .uid('sink');
      return;
    }
    default:
      throw new Error(`unknown scenario ${String(scenario)}`);
  }
});
