/**
 * One registered state's access to its stored entries in the LSM backend (lsm-backend.ts):
 * the current key's composed store key (cached per key), TTL on reads, the hot-key path
 * (lsm-hot-keys.ts) and in-place integer writes. Split from lsm-backend.ts, which keeps
 * the state types.
 */
import type { StateTtlConfig } from './api.js';
import { decodeStateValue, encodeStateValue } from './key-encoding.js';
import type { LsmKeyedStateBackend } from './lsm-backend.js';
import { HotKeys, type HotSlot } from './lsm-hot-keys.js';
import { hashBytes, prefixEnd } from './lsm/index.js';
import { storedFastIntLength, type LsmValueCodec } from './lsm-value-codec.js';

/**
 * One registered state's access to its entries for the current key, with TTL applied:
 * reads drop expired entries, `OnReadAndWrite` rewrites the stamp on read.
 */
export class StateCell {
  /** `key()` for the current key, composed at `cachedVersion` of the backend's current key. */
  private cachedKey: Uint8Array | undefined;
  private cachedHash = 0;
  private cachedVersion = -1;
  /** String keys -> mutable-memtable entries, for states without TTL (lsm-hot-keys.ts). */
  private readonly hot: HotKeys | undefined;

  constructor(
    readonly backend: LsmKeyedStateBackend,
    readonly stateId: number,
    readonly ttl: StateTtlConfig | undefined,
  ) {
    this.hot = ttl === undefined ? new HotKeys(backend.store) : undefined;
  }

  /** The current key's hot-key slot, or undefined. */
  private hotSlot(): HotSlot | undefined {
    const key = this.backend.getCurrentKey();
    if (this.hot === undefined || typeof key !== 'string') return undefined;
    return this.hot.get(key, this.backend.getCurrentKeyGroup());
  }

  /** Caches the current key's mutable-memtable entry after a slow-path access. */
  private rememberHot(): void {
    const key = this.backend.getCurrentKey();
    if (this.hot === undefined || typeof key !== 'string') return;
    const storeKey = this.key();
    this.hot.remember(key, storeKey, this.hashOf(storeKey));
  }

  /**
   * The value of this state for the current key (no suffix), decoded by `codec`, or
   * undefined if absent or expired: through the hot-key slot when cached (a deferred
   * integer without reading any bytes), else `readStored`. Every read of a state that
   * writes through `writeCurrent` must come here.
   */
  readCurrent<T>(codec: LsmValueCodec<T>): T | undefined {
    const slot = this.hotSlot();
    if (slot !== undefined) {
      if (slot.dirty) return slot.value as T;
      const stored = slot.entry.value;
      return stored === null ? undefined : codec.decode(stored);
    }
    const stored = this.readStored(this.key());
    if (stored === undefined) return undefined;
    this.rememberHot();
    return codec.decode(stored);
  }

  /**
   * `writeValue` for the current key (no suffix). Through the hot-key slot when cached: an
   * integer of the default serializer whose stored value keeps its length is deferred
   * (lsm-hot-keys.ts), else written in place or anew.
   */
  writeCurrent<T>(codec: LsmValueCodec<T>, value: T): void {
    const slot = this.hotSlot();
    if (slot !== undefined) {
      if (codec.cborDefault && slot.length > 0 && storedFastIntLength(value) === slot.length) {
        this.hot!.defer(slot, value as number);
        return;
      }
      // Not dirty before the write: a write that fills the memtable freezes it, and the
      // freeze's write-back must not put the older deferred value over this one.
      slot.dirty = false;
      this.writeValue(this.key(), codec, value);
      this.hot!.clean(slot);
      return;
    }
    this.writeValue(this.key(), codec, value);
    this.rememberHot();
  }

  /** Deletes the current key's value (no suffix). */
  removeCurrent(): void {
    const slot = this.hotSlot();
    if (slot !== undefined) this.hot!.forget(this.backend.getCurrentKey() as string);
    this.remove(this.key());
  }

  /** The store key of this state for the current key, plus `suffix`. Never mutate it. */
  key(suffix?: Uint8Array): Uint8Array {
    if (suffix !== undefined) return this.backend.keyFor(this.stateId, suffix);
    if (this.cachedVersion !== this.backend.currentKeyVersion || this.cachedKey === undefined) {
      this.cachedKey = this.backend.keyFor(this.stateId);
      this.cachedHash = hashBytes(this.cachedKey);
      this.cachedVersion = this.backend.currentKeyVersion;
    }
    return this.cachedKey;
  }

  /** `hashBytes(key)`, remembered for the current key's `key()`. */
  private hashOf(key: Uint8Array): number {
    return key === this.cachedKey ? this.cachedHash : hashBytes(key);
  }

  /** Payload bytes of `key`, or undefined if absent or expired. */
  read(key: Uint8Array): Uint8Array | undefined {
    const stored = this.backend.store.get(key);
    return stored === undefined ? undefined : this.live(key, stored);
  }

  /** The stored value (stamp and payload) of `key`, or undefined if absent or expired. */
  readStored(key: Uint8Array): Uint8Array | undefined {
    const stored = this.backend.store.get(key, this.hashOf(key));
    if (stored === undefined || this.ttl === undefined) return stored;
    const payload = this.live(key, stored);
    return payload === undefined ? undefined : stored;
  }

  /** Applies TTL to a stored value read at `key`: undefined if expired. */
  live(key: Uint8Array, stored: Uint8Array): Uint8Array | undefined {
    const { payload, refreshedAtMs } = decodeStateValue(stored);
    if (this.ttl === undefined) return payload;
    if (this.backend.isExpired(refreshedAtMs, this.ttl)) {
      this.backend.store.delete(key);
      return undefined;
    }
    if (this.ttl.updateType === 'OnReadAndWrite') this.write(key, payload);
    return payload;
  }

  /** The refresh time to stamp a write with: now for a TTL state, else undefined. */
  stamp(): number | undefined {
    return this.ttl === undefined ? undefined : this.backend.clock.nowMs();
  }

  write(key: Uint8Array, payload: Uint8Array): void {
    this.backend.store.put(key, encodeStateValue(payload, this.stamp()));
  }

  /**
   * Writes `value` through `codec`, stamped as `write` does. Integers go through the
   * codec's scratch buffer and `LsmStore.overwrite` (no allocation once the key is in the
   * memtable): safe because the states using this read a stored value only to decode it
   * at once.
   */
  writeValue<T>(key: Uint8Array, codec: LsmValueCodec<T>, value: T): void {
    const stamp = this.stamp();
    const scratch = codec.encodeToScratch(value, stamp);
    if (scratch !== undefined) this.backend.store.overwrite(key, scratch, this.hashOf(key));
    else this.backend.store.put(key, codec.encode(value, stamp), this.hashOf(key));
  }

  remove(key: Uint8Array): void {
    this.backend.store.delete(key);
  }

  /** Live entries under the current key's prefix, as [suffix, payload], materialized. */
  entries(): [Uint8Array, Uint8Array][] {
    const prefix = this.key();
    const out: [Uint8Array, Uint8Array][] = [];
    const raw = [...this.backend.store.scan(prefix, prefixEnd(prefix))];
    for (const [k, v] of raw) {
      const payload = this.live(k, v);
      if (payload !== undefined) out.push([k.subarray(prefix.length), payload]);
    }
    return out;
  }
}
