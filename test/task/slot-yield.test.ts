// Downstream work first in a shared slot (task/slot-yield.ts): a source skips its turn while a
// neighbour of its slot waits busy for its next slice, for at most sourceDeferMaxMs since the
// source's last turn; never in a slot of its own, never when no neighbour is busy. Clocks are
// given (`now`); the neighbour is really parked in `yield()` (one event loop turn).
import t from 'tap';
import { SlotThread, SlotYield, sourceDeferMaxMs } from '../../src/task/slot-yield.js';

t.test('a source alone in its slot, or with idle neighbours, never skips a turn', async (t) => {
  const alone = new SlotYield(false, new SlotThread(), true);
  const slot = new SlotThread();
  slot.busy = 3; // even with (impossible) busy neighbours: a slot of its own is never shared
  const unshared = new SlotYield(false, slot, true);
  const idleNeighbours = new SlotYield(true, new SlotThread(), true);
  for (let now = 0; now < 100; now += 0.5) {
    t.equal(alone.deferSource(now), false);
    t.equal(unshared.deferSource(now), false);
    t.equal(idleNeighbours.deferSource(now), false);
  }
});

t.test('a source defers to a busy neighbour for at most sourceDeferMaxMs since its last turn, then yields at once while deferring', async (t) => {
  const slot = new SlotThread();
  const source = new SlotYield(true, slot, true);
  const neighbour = new SlotYield(true, slot, false);
  t.equal(source.deferSource(100), false, 'no neighbour busy: the source takes its turn at 100');
  // The neighbour's slice has run out: it yields, and is counted busy until its next turn.
  t.equal(neighbour.due(performance.now()), true, 'a fresh subtask yields at its first check');
  const parked = neighbour.yield(true);
  t.equal(slot.busy, 1, 'a neighbour parked in yield() counts as busy');
  const turns: number[] = [];
  for (let now = 100.5; now <= 100 + 3 * sourceDeferMaxMs; now += 0.5) {
    if (!source.deferSource(now)) turns.push(now);
    else t.equal(source.due(now), true, `deferring at ${now} ends the source's slice (it yields now)`);
  }
  t.same(turns, [100 + sourceDeferMaxMs, 100 + 2 * sourceDeferMaxMs, 100 + 3 * sourceDeferMaxMs], 'one turn every sourceDeferMaxMs while the neighbour stays busy');
  await parked;
  t.equal(slot.busy, 0, 'the neighbour runs again: not busy');
  t.equal(source.deferSource(200), false, 'with no neighbour busy the source takes every turn');
  t.equal(source.deferSource(200.1), false);
});

t.test('a neighbour that yields after a turn without records (a maintenance step, a snapshot) is not busy', async (t) => {
  const slot = new SlotThread();
  const source = new SlotYield(true, slot, true);
  const neighbour = new SlotYield(true, slot, false);
  const parked = neighbour.yield(false);
  t.equal(slot.busy, 0);
  t.equal(source.deferSource(1), false);
  await parked;
});

t.test('a source yielding is never counted busy: two sources of one slot never defer to each other', async (t) => {
  const slot = new SlotThread();
  const a = new SlotYield(true, slot, true);
  const b = new SlotYield(true, slot, true);
  const parked = a.yield(true);
  t.equal(slot.busy, 0);
  t.equal(b.deferSource(1), false);
  await parked;
});
