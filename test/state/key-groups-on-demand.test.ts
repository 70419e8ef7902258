// A keyed input hashes each record's key to its key group again only where the chain's
// head needs it (task/stream-input-processor.ts): `KeyedStateBackend.readsKeyGroup` says
// whether the backend does. The heap backend finds entries by key and takes -1; the LSM
// backend keys its entries by key group and refuses -1 (a caller's mistake). End to end,
// the heap and LSM paths (keyed state, timers, windows, rescaled restores) are the tests
// of test/engine/time.test.ts and test/engine/savepoint.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { HeapKeyedStateBackend } from '../../src/state/heap-backend.js';
import { LsmKeyedStateBackend } from '../../src/state/lsm-backend.js';
import { assignToKeyGroup } from '../../src/state/key-group.js';

const maxParallelism = 128;

t.test('the heap backend reads no key group: state per key with -1 for every key', async (t) => {
  const backend = new HeapKeyedStateBackend({ fsync: false });
  t.teardown(() => backend.close());
  t.equal(backend.readsKeyGroup, false);
  const count = backend.getValueState<number>('op', { kind: 'value', name: 'count', defaultValue: 0 });
  const words = ['the', 'a', 'the', 'of', 'the', 'a'];
  for (const w of words) {
    backend.setCurrentKey(w, -1);
    count.update(count.value()! + 1);
  }
  const seen: Record<string, number> = {};
  for (const w of ['the', 'a', 'of']) {
    backend.setCurrentKey(w, assignToKeyGroup(w, maxParallelism));
    seen[w] = count.value()!;
  }
  t.same(seen, { the: 3, a: 2, of: 1 }, 'the same entries whether the key group was given or -1');
});

t.test('the LSM backend reads key groups and refuses -1', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluicegate-kg-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const backend = new LsmKeyedStateBackend({ dir, maxParallelism, store: { fsync: false } });
  t.teardown(() => backend.close());
  t.equal(backend.readsKeyGroup, true);
  t.throws(() => backend.setCurrentKey('the', -1), RangeError);
  backend.setCurrentKey('the', assignToKeyGroup('the', maxParallelism));
  t.equal(backend.getCurrentKey(), 'the');
});
