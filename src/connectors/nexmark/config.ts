/**
 * The Nexmark generator's configuration and its arithmetic of event numbers, ids and
 * timestamps. nexmark/nexmark: `NexmarkConfiguration` (the defaults below) and
 * `generator/GeneratorConfig` (`nextAdjustedEventNumber`, `nextEventNumberForWatermark`,
 * `timestampForEvent`), with the constants `FIRST_PERSON_ID`, `FIRST_AUCTION_ID`,
 * `FIRST_CATEGORY_ID`.
 *
 * One timeline: event number n (from `firstEventNumber`, as Flink's table source: 1) has
 * the event id `firstEventId + adjusted(n)` and the timestamp `timestampForEvent(adjusted(n))`.
 * Flink's `GeneratorConfig.split(p)` runs p generators on parallel timelines, each with a
 * slower rate and its own id range, so its events depend on the parallelism; here every
 * split takes an interleaved share of the one timeline (see source.ts), so the events are
 * the same at every parallelism and the aggregate event-time rate is `firstEventRate`, as
 * Flink's p generators together.
 */

/** Ids start here so that queries find matches even in small runs. nexmark: `GeneratorConfig`. */
export const firstPersonId = 1000;
export const firstAuctionId = 1000;
export const firstCategoryId = 10;

/** What a Nexmark run may set; every field has Nexmark's default. nexmark: `NexmarkConfiguration`. */
export interface NexmarkOptions {
  /** Seed of every random choice (per event: seed and event number). Default 0. */
  seed?: number;
  /** Event time of event number 0, ms since the epoch. Flink: the wall clock at submission. Default 0. */
  baseTimeMs?: number;
  /** Event-time rate, events/s: sets the inter-event delay (not how fast events are emitted). Default 10,000. */
  firstEventRate?: number;
  /** Proportions of persons, auctions and bids. Default 1, 3, 46. */
  personProportion?: number;
  auctionProportion?: number;
  bidProportion?: number;
  /** Average sizes the `extra` field pads to, bytes. Default 200, 500, 100. */
  avgPersonByteSize?: number;
  avgAuctionByteSize?: number;
  avgBidByteSize?: number;
  /** 1 - 1/ratio of bids go to a hot auction; of auctions to a hot seller; of bids to a hot bidder. Default 2, 4, 4. */
  hotAuctionRatio?: number;
  hotSellersRatio?: number;
  hotBiddersRatio?: number;
  /** Auctions a random bid may choose among (the latest ones). Default 100. */
  numInFlightAuctions?: number;
  /** Persons a random seller or bidder may be among (the latest ones). Default 1000. */
  numActivePeople?: number;
  /** Events are shuffled within groups of this many event numbers (1: in order). Default 1. */
  outOfOrderGroupSize?: number;
  /** Event id of event number 0 before adjustment; Flink's table source: 1. */
  firstEventId?: number;
  /** The first event number; Flink's table source: 1. */
  firstEventNumber?: number;
}

const defaults: Required<NexmarkOptions> = {
  seed: 0,
  baseTimeMs: 0,
  firstEventRate: 10_000,
  personProportion: 1,
  auctionProportion: 3,
  bidProportion: 46,
  avgPersonByteSize: 200,
  avgAuctionByteSize: 500,
  avgBidByteSize: 100,
  hotAuctionRatio: 2,
  hotSellersRatio: 4,
  hotBiddersRatio: 4,
  numInFlightAuctions: 100,
  numActivePeople: 1000,
  outOfOrderGroupSize: 1,
  firstEventId: 1,
  firstEventNumber: 1,
};

/** Options whose value must be an integer >= 1 (the rest: >= 0). */
const positive = new Set<keyof NexmarkOptions>([
  'firstEventRate',
  'hotAuctionRatio',
  'hotSellersRatio',
  'hotBiddersRatio',
  'numInFlightAuctions',
  'numActivePeople',
  'outOfOrderGroupSize',
  'personProportion',
  'auctionProportion',
  'bidProportion',
]);

/** Validated options with the derived figures. nexmark: `GeneratorConfig`. */
export class NexmarkConfig implements Readonly<Required<NexmarkOptions>> {
  readonly seed!: number;
  readonly baseTimeMs!: number;
  readonly firstEventRate!: number;
  readonly personProportion!: number;
  readonly auctionProportion!: number;
  readonly bidProportion!: number;
  readonly avgPersonByteSize!: number;
  readonly avgAuctionByteSize!: number;
  readonly avgBidByteSize!: number;
  readonly hotAuctionRatio!: number;
  readonly hotSellersRatio!: number;
  readonly hotBiddersRatio!: number;
  readonly numInFlightAuctions!: number;
  readonly numActivePeople!: number;
  readonly outOfOrderGroupSize!: number;
  readonly firstEventId!: number;
  readonly firstEventNumber!: number;
  /** Persons + auctions + bids: the length of one cycle of event kinds (50). */
  readonly totalProportion: number;
  /** Event time between consecutive event numbers, µs (1e6 / firstEventRate). */
  readonly interEventDelayUs: number;

  /**
   * @throws RangeError naming the option, for an unknown option or a value that is not a
   *   safe integer (>= 1 for rates, ratios, counts, proportions and the group size; >= 0 else).
   */
  constructor(options: NexmarkOptions = {}) {
    for (const key of Object.keys(options)) {
      if (!Object.hasOwn(defaults, key)) throw new RangeError(`Nexmark has no option "${key}"; its options are ${Object.keys(defaults).join(', ')}`);
    }
    const merged = { ...defaults, ...options } as Required<NexmarkOptions>;
    for (const [key, value] of Object.entries(merged) as Array<[keyof NexmarkOptions, number]>) {
      const min = positive.has(key) ? 1 : 0;
      if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`Nexmark option ${key} must be an integer >= ${min}, got ${String(value)}`);
    }
    Object.assign(this, merged);
    this.totalProportion = merged.personProportion + merged.auctionProportion + merged.bidProportion;
    this.interEventDelayUs = 1_000_000 / merged.firstEventRate;
  }

  /** The options, for a copy in another thread. */
  options(): Required<NexmarkOptions> {
    const out = {} as Record<string, number>;
    for (const key of Object.keys(defaults)) out[key] = (this as unknown as Record<string, number>)[key]!;
    return out as unknown as Required<NexmarkOptions>;
  }

  /** Event number of the event at 0-based position `index` of the stream. */
  eventNumber(index: number): number {
    return this.firstEventNumber + index;
  }

  /** The event number whose id and timestamp event number `n` takes: shuffled within its group. nexmark: `nextAdjustedEventNumber`. */
  adjustedEventNumber(n: number): number {
    const g = this.outOfOrderGroupSize;
    if (g === 1) return n;
    return Math.trunc(n / g) * g + ((n * 953) % g);
  }

  /** The event number whose timestamp bounds this and every later event's from below. nexmark: `nextEventNumberForWatermark`. */
  watermarkEventNumber(n: number): number {
    const g = this.outOfOrderGroupSize;
    return Math.trunc(n / g) * g;
  }

  /** Event time of event number `n`, ms since the epoch (truncated as Java's long arithmetic). nexmark: `timestampForEvent`. */
  timestampForEvent(n: number): number {
    return this.baseTimeMs + Math.trunc(Math.trunc(n * this.interEventDelayUs) / 1000);
  }

  /** The event id of event number `n`: decides the kind and the ids. */
  eventId(n: number): number {
    return this.firstEventId + this.adjustedEventNumber(n);
  }
}
