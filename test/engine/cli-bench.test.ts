// `sluice bench nexmark`: runs a query over generated events and prints its figures; the
// records out are what the query gives on the generator's events (computed here), and bad
// options are one-line usage errors (exit 2).
import t from 'tap';
import { NexmarkGenerator } from '../../src/connectors/nexmark/index.js';
import { cli } from '../helpers/cli.js';

t.test('bench nexmark --json: the figures of a run, its records out as the query selects them', async (t) => {
  const events = 6000;
  const seed = 99;
  const { code, out, err } = await cli(['bench', 'nexmark', '--query', 'q2', '--events', String(events), '-p', '2', '--seed', String(seed), '--json']);
  t.equal(code, 0, err);
  const r = JSON.parse(out) as Record<string, number | string>;
  const generator = new NexmarkGenerator({ seed });
  let selected = 0;
  for (let i = 0; i < events; i++) {
    const bid = generator.event(i).bid;
    if (bid !== null && bid.auction % 123 === 0) selected++;
  }
  t.ok(selected > 0);
  t.match(r, { query: 'q2', events, parallelism: 2, outputRecords: selected });
  const cpu = r['cpuTimeMs'] as number;
  t.ok(cpu > 0 && Math.abs((r['eventsPerSecondPerCore'] as number) - events / (cpu / 1000)) < 1e-6 * events, 'events/s per core = events / CPU seconds');
});

t.test('bench nexmark prints events/s, per core against Flink, and CPU time', async (t) => {
  const { code, out } = await cli(['bench', 'nexmark', '--query', 'q1', '--events', '3000', '-p', '1']);
  t.equal(code, 0);
  t.match(out, /Nexmark q1: 3000 events at parallelism 1, 2760 records out/);
  t.match(out, /events\/s per core\s+\S+ \(Flink: 157\.9k, ratio \d+\.\d\d\)/);
  t.match(out, /CPU time\s+\d+\.\d\d s/);
});

t.test('bad options: exit 2 with the option named', async (t) => {
  const unknown = await cli(['bench', 'nexmark', '--query', 'q7']);
  t.equal(unknown.code, 2);
  t.match(unknown.err, /--query <q>' argument 'q7' is invalid\. Allowed choices are q0, q1, q2/);
  const zero = await cli(['bench', 'nexmark', '--events', '0']);
  t.equal(zero.code, 2);
  t.match(zero.err, /--events must be an integer >= 1, got "0"/);
});
