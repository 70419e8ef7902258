// Key groups must match Flink's exactly. The expected values below were produced by a
// Java program running Flink's MathUtils.murmurHash on Java's own hashCode() of each key
// (String, Integer, Double, Long, Boolean), with maxParallelism 128 and 32768.
import t from 'tap';
import {
  assignToKeyGroup,
  defaultMaxParallelism,
  keyGroupRangeForSubtask,
  keyHashCode,
  murmurHash,
  operatorIndexForKeyGroup,
} from '../../src/state/key-group.js';

const javaReference: Array<[unknown, number, number, number, number]> = [
  ['hello', 99162322, 1715862179, 35, 31395],
  ['the', 114801, 1238856130, 66, 29122],
  ['sluicegate', 618908954, 1633070463, 127, 11647],
  ['', 0, 593689054, 94, 31198],
  ['Ünïcödé', 1055431381, 301004223, 63, 30143],
  [0, 0, 593689054, 94, 31198],
  [1, 1, 68075478, 86, 16342],
  [-1, -1, 1982413648, 80, 15184],
  [42, 42, 1134849565, 29, 28189],
  [2147483647, 2147483647, 1653689534, 62, 19646],
  [1.5, 1073217536, 1684538177, 65, 833],
  [-0.25, -1076887552, 820708682, 74, 1354],
  [3000000000n, -1294967296, 77754262, 22, 28566],
  [true, 1231, 1090530765, 77, 11725],
  [false, 1237, 1530821891, 3, 32003],
];

t.test('hash codes, murmur hash and key groups match Flink on the JVM', async (t) => {
  for (const [key, hash, murmur, kg128, kg32768] of javaReference) {
    const label = typeof key === 'bigint' ? `${key}n` : JSON.stringify(key);
    t.equal(keyHashCode(key), hash, `hashCode(${label})`);
    t.equal(murmurHash(hash), murmur, `murmurHash(${label})`);
    t.equal(assignToKeyGroup(key, 128), kg128, `keyGroup(${label}, 128)`);
    t.equal(assignToKeyGroup(key, 32768), kg32768, `keyGroup(${label}, 32768)`);
  }
});

t.test('default max parallelism follows Flink: min(max(roundUpPow2(p + p/2), 128), 32768)', async (t) => {
  t.equal(defaultMaxParallelism(1), 128);
  t.equal(defaultMaxParallelism(2), 128);
  t.equal(defaultMaxParallelism(100), 256);
  t.equal(defaultMaxParallelism(1000), 2048);
  t.equal(defaultMaxParallelism(30000), 32768);
});

t.test('subtask key-group ranges partition [0, maxParallelism) and agree with operatorIndexForKeyGroup', async (t) => {
  for (const [maxP, p] of [[128, 1], [128, 2], [128, 3], [128, 7], [1000, 13], [32768, 100]] as const) {
    let next = 0;
    for (let i = 0; i < p; i++) {
      const range = keyGroupRangeForSubtask(maxP, p, i);
      t.equal(range.start, next, `range of subtask ${i}/${p} starts where the previous ended`);
      for (const kg of [range.start, range.end]) t.equal(operatorIndexForKeyGroup(kg, p, maxP), i);
      next = range.end + 1;
    }
    t.equal(next, maxP, `ranges of ${p} subtasks cover all ${maxP} key groups`);
  }
});

t.test('keys without a stable hash are rejected with a message naming the key', async (t) => {
  t.throws(() => keyHashCode({ word: 'x' }), { name: 'TypeError', message: /Cannot hash key \{"word":"x"\}/ });
  t.throws(() => keyHashCode(undefined), /Cannot hash key undefined/);
  t.equal(keyHashCode(['a', 1]), (Math.imul(Math.imul(1, 31) + keyHashCode('a'), 31) + 1) | 0, 'arrays hash as java.util.List');
});
