// The timer service a KeyedProcessFunction sees, over both backends' timer queues, with a
// manual clock (no sleeping), against a simple reference: random registrations and
// deletions under random keys, watermark advances and clock advances. Each firing must be
// the reference's: once per (key, timestamp, domain), event-time timers when the watermark
// reaches them in timestamp order with their key current, processing-time ones when the
// clock does. Seeded; replay with SLUICE_SEED.
import t from 'tap';
import { HeapKeyedStateBackend } from '../../src/state/heap-backend.js';
import { LsmKeyedStateBackend } from '../../src/state/lsm-backend.js';
import { assignToKeyGroup } from '../../src/state/key-group.js';
import type { KeyedStateBackend, StateKey } from '../../src/state/api.js';
import { InternalTimerService } from '../../src/time/index.js';
import type { FiredTimer } from '../../src/time/index.js';
import { seededRandom, testSeed } from '../helpers/random.js';
import { tempDir } from '../state/helpers.js';

const maxParallelism = 32;

function service(backend: KeyedStateBackend, clock: { now(): number }): InternalTimerService {
  return new InternalTimerService(
    'op',
    {
      currentKey: () => {
        const key = backend.getCurrentKey();
        return key === undefined ? undefined : { key, keyGroup: assignToKeyGroup(key, maxParallelism) };
      },
      setCurrentKey: (key, keyGroup) => backend.setCurrentKey(key, keyGroup),
    },
    backend.timers('op', 'event'),
    backend.timers('op', 'processing'),
    clock,
  );
}

t.test('random registrations, deletions, watermark and clock advances match a reference, on both backends', async (t) => {
  const seed = testSeed(2024);
  for (const kind of ['heap', 'lsm'] as const) {
    const random = seededRandom(seed);
    const backend: KeyedStateBackend =
      kind === 'heap' ? new HeapKeyedStateBackend({ fsync: false }) : new LsmKeyedStateBackend({ dir: tempDir(t, 'timers-svc'), maxParallelism, store: { memtableSizeBytes: 8192, fsync: false } });
    let now = 1_000;
    const svc = service(backend, { now: () => now });
    const keys: StateKey[] = ['a', 'b', 'c', 7, 8, [1, 'x']];
    const reference = { event: new Set<string>(), processing: new Set<string>() };
    const id = (key: StateKey, ts: number): string => `${JSON.stringify(key)}@${ts}`;
    let watermark = -Infinity;
    let fired = 0;
    let problem: string | undefined;
    const expectFire = (domain: 'event' | 'processing', upTo: number): string[] => {
      const due = [...reference[domain]].filter((x) => Number(x.split('@')[1]) <= upTo);
      for (const x of due) reference[domain].delete(x);
      return due.sort((x, y) => Number(x.split('@')[1]) - Number(y.split('@')[1]));
    };
    const record = (got: string[]) => (timer: FiredTimer) => {
      // The key is current while it fires.
      if (JSON.stringify(backend.getCurrentKey()) !== JSON.stringify(timer.key)) problem ??= `fired ${id(timer.key, timer.timestampMs)} with key ${JSON.stringify(backend.getCurrentKey())} current`;
      got.push(id(timer.key, timer.timestampMs));
    };
    for (let step = 0; step < 4000 && problem === undefined; step++) {
      const key = keys[Math.floor(random() * keys.length)]!;
      backend.setCurrentKey(key, assignToKeyGroup(key, maxParallelism));
      const r = random();
      const ts = Math.floor(random() * 200) - 20 + (Number.isFinite(watermark) ? watermark : 0);
      if (r < 0.35) {
        svc.registerEventTimeTimer(ts);
        reference.event.add(id(key, ts));
      } else if (r < 0.5) {
        svc.registerProcessingTimeTimer(now + (ts % 50));
        reference.processing.add(id(key, now + (ts % 50)));
      } else if (r < 0.6) {
        svc.deleteEventTimeTimer(ts);
        reference.event.delete(id(key, ts));
      } else if (r < 0.65) {
        svc.deleteProcessingTimeTimer(now + (ts % 50));
        reference.processing.delete(id(key, now + (ts % 50)));
      } else if (r < 0.85) {
        const next = (Number.isFinite(watermark) ? watermark : 0) + Math.floor(random() * 40) - 10;
        const got: string[] = [];
        svc.advanceWatermark(next, record(got));
        const want = next > watermark ? expectFire('event', next) : [];
        if (next > watermark) watermark = next;
        if (svc.currentWatermark() !== watermark) problem ??= `watermark ${svc.currentWatermark()}, expected ${watermark}`;
        // Order: by timestamp (ties in any order).
        const times = got.map((g) => Number(g.split('@')[1]));
        if (times.some((x, i) => i > 0 && x < times[i - 1]!)) problem ??= `event timers out of order: ${got.join(' ')}`;
        if (JSON.stringify([...got].sort()) !== JSON.stringify([...want].sort())) problem ??= `step ${step}: watermark ${next} fired ${got.join(' ')}, expected ${want.join(' ')}`;
        fired += got.length;
      } else {
        now += Math.floor(random() * 30);
        const got: string[] = [];
        svc.fireProcessingTimers(record(got));
        const want = expectFire('processing', now);
        if (JSON.stringify([...got].sort()) !== JSON.stringify([...want].sort())) problem ??= `step ${step}: clock ${now} fired ${got.join(' ')}, expected ${want.join(' ')}`;
        fired += got.length;
      }
    }
    t.equal(problem, undefined, `${kind}: ${problem ?? 'every firing as the reference'} (seed ${seed})`);
    t.ok(fired > 500, `${kind}: ${fired} timers fired`);
    await backend.close();
  }
});

t.test('registrations outside a keyed context and bad times are refused, naming the operator', async (t) => {
  const backend = new HeapKeyedStateBackend({ fsync: false });
  const svc = service(backend, { now: () => 0 });
  t.throws(() => svc.registerEventTimeTimer(5), /registerEventTimeTimer of "op": timers belong to a key, and there is no current key here/);
  backend.setCurrentKey('k', assignToKeyGroup('k', maxParallelism));
  t.throws(() => svc.registerEventTimeTimer(1.5), /a timer's time must be an integer number of ms since the epoch .*got 1.5/);
  t.throws(() => svc.registerProcessingTimeTimer(NaN), /got NaN/);
  t.throws(() => svc.deleteEventTimeTimer(Infinity), /got Infinity/);
  await backend.close();
});
