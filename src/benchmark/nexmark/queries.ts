/**
 * Nexmark queries q0, q1, q2 on the DataStream API, each as the Flink SQL of
 * nexmark/nexmark `nexmark-flink/src/main/resources/queries/q0.sql`..`q2.sql` over the
 * `bid` view (`event_type = 2`):
 *
 * - q0, pass through: `SELECT auction, bidder, price, dateTime, extra FROM bid`.
 * - q1, currency conversion: the same with `0.908 * price` (dollars to euros). The SQL's
 *   result is DECIMAL(23, 3); here it is the double nearest to it, `price * 908 / 1000`
 *   (price * 908 is an exact integer below 2^53, so one rounding, in the division).
 * - q2, selection: `SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0`.
 */
import type { DataStream } from '../../api/index.js';
import { EventType } from '../../connectors/nexmark/model.js';
import type { Bid, NexmarkEvent } from '../../connectors/nexmark/model.js';

/** q0's and q1's rows. */
export interface BidRow {
  auction: number;
  bidder: number;
  price: number;
  dateTime: number;
  extra: string;
}

/** q2's rows. */
export interface AuctionPriceRow {
  auction: number;
  price: number;
}

export const queryNames = ['q0', 'q1', 'q2'] as const;
export type QueryName = (typeof queryNames)[number];

/** The bids of the event stream (the SQL's `bid` view). */
export function bids(events: DataStream<NexmarkEvent>): DataStream<Bid> {
  return events
    .filter((e) => e.eventType === EventType.BID)
    .name('Bids')
    .map((e) => e.bid!)
    .name('Bid');
}

/** q0: the bids' fields, unchanged. */
export function q0(events: DataStream<NexmarkEvent>): DataStream<BidRow> {
  return bids(events)
    .map((b): BidRow => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra }))
    .name('q0 pass through');
}

/** q1's row of a bid: its price in euros. */
export function q1Row(b: Bid): BidRow {
  return { auction: b.auction, bidder: b.bidder, price: (b.price * 908) / 1000, dateTime: b.dateTime, extra: b.extra };
}

/** q1: the bids with their price in euros. */
export function q1(events: DataStream<NexmarkEvent>): DataStream<BidRow> {
  return bids(events).map(q1Row).name('q1 currency conversion');
}

/** q2: auction and price of the bids on auctions whose id is a multiple of 123. */
export function q2(events: DataStream<NexmarkEvent>): DataStream<AuctionPriceRow> {
  return bids(events)
    .filter((b) => b.auction % 123 === 0)
    .name('q2 selection')
    .map((b): AuctionPriceRow => ({ auction: b.auction, price: b.price }))
    .name('q2 project');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows differ per query
export const queries: Record<QueryName, (events: DataStream<NexmarkEvent>) => DataStream<any>> = { q0, q1, q2 };
