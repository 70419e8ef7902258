/**
 * The reference for timer queue tests: a sorted array of timers in a backend's documented
 * order (api.ts `TimerQueue`: timestamp, key group, then the key's identity string on the
 * heap or its escaped CBOR bytes on the LSM), and a checked `pollDue`.
 */
import { Encoder } from 'cbor-x';
import type { StateKey, Timer, TimerQueue } from '../../src/state/api.js';
import { keyIdentity } from '../../src/state/key-identity.js';
import { escapeKey } from '../../src/state/key-encoding.js';
import { compareBytes } from '../../src/state/lsm/index.js';

export type BackendKind = 'heap' | 'lsm';

/** A timer of the reference: `k` indexes the test's key list. */
export interface RefTimer {
  k: number;
  ts: number;
}

const cbor = new Encoder({ useRecords: false });

/** The test's keys with their key groups and tie-break forms. */
export class TimerKeys {
  readonly identities: string[];
  readonly escaped: Uint8Array[];
  constructor(
    readonly keys: readonly StateKey[],
    readonly keyGroups: readonly number[],
  ) {
    this.identities = keys.map((k) => keyIdentity(k));
    this.escaped = keys.map((k) => escapeKey(cbor.encode(k)));
    if (new Set(this.identities).size !== keys.length) throw new Error('test keys must be distinct');
  }
  describe(x: Timer | undefined): string {
    return x === undefined ? 'undefined' : `(${keyIdentity(x.key)}, group ${x.keyGroup}, ${x.timestampMs})`;
  }
  timer(x: RefTimer): Timer {
    return { key: this.keys[x.k]!, keyGroup: this.keyGroups[x.k]!, timestampMs: x.ts };
  }
}

export class TimerReference {
  readonly timers: RefTimer[] = [];
  constructor(
    private readonly kind: BackendKind,
    private readonly keys: TimerKeys,
  ) {}

  private cmp(a: RefTimer, b: RefTimer): number {
    if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
    const ga = this.keys.keyGroups[a.k]!;
    const gb = this.keys.keyGroups[b.k]!;
    if (ga !== gb) return ga - gb;
    if (this.kind === 'lsm') return compareBytes(this.keys.escaped[a.k]!, this.keys.escaped[b.k]!);
    const ia = this.keys.identities[a.k]!;
    const ib = this.keys.identities[b.k]!;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  }

  /** Slot of `x`, or where it would go. */
  private find(x: RefTimer): { at: number; found: boolean } {
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cmp(this.timers[mid]!, x) < 0) lo = mid + 1;
      else hi = mid;
    }
    const at = this.timers[lo];
    return { at: lo, found: at !== undefined && at.k === x.k && at.ts === x.ts };
  }

  has(x: RefTimer): boolean {
    return this.find(x).found;
  }
  add(x: RefTimer): void {
    const { at, found } = this.find(x);
    if (!found) this.timers.splice(at, 0, { k: x.k, ts: x.ts });
  }
  delete(x: RefTimer): void {
    const { at, found } = this.find(x);
    if (found) this.timers.splice(at, 1);
  }

  /**
   * `q.pollDue(bound)` must return this reference's first timer if due, else undefined;
   * the timer is then removed here too. Returns it; throws naming `what` on a mismatch.
   */
  poll(q: TimerQueue, bound: number, what: string): RefTimer | undefined {
    const first = this.timers[0];
    const want = first !== undefined && first.ts <= bound ? first : undefined;
    const got = q.pollDue(bound);
    const ok =
      want === undefined
        ? got === undefined
        : got !== undefined && keyIdentity(got.key) === this.keys.identities[want.k] && got.keyGroup === this.keys.keyGroups[want.k] && got.timestampMs === want.ts;
    if (!ok) throw new Error(`${what}: pollDue(${bound}) gave ${this.keys.describe(got)}, want ${this.keys.describe(want && this.keys.timer(want))}`);
    if (want !== undefined) this.timers.shift();
    return want;
  }

  /** peekTimestamp() and size() of `q` agree with this reference; throws naming `what`. */
  check(q: TimerQueue, what: string): void {
    if (q.peekTimestamp() !== this.timers[0]?.ts) throw new Error(`${what}: peekTimestamp() is ${q.peekTimestamp()}, want ${this.timers[0]?.ts}`);
    if (q.size() !== this.timers.length) throw new Error(`${what}: size() is ${q.size()}, want ${this.timers.length}`);
  }
}
