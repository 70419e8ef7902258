/**
 * Nexmark's events: persons, auctions and bids of an online auction, and the event that
 * carries one of them. nexmark/nexmark: `model/Person`, `model/Auction`, `model/Bid`,
 * `model/Event`, and the `datagen` table of `queries/ddl_gen.sql` (`event_type` 0, 1, 2
 * with one non-null row). Ids and prices are integers (BIGINT in the SQL; safe integers
 * here), times are ms since the epoch (TIMESTAMP(3)). Classes, so every record of a kind
 * has one shape (V8 keeps the queries' property reads monomorphic). They are registered
 * types (`env.registerType`) under the names `nexmark.Person`, `nexmark.Auction`,
 * `nexmark.Bid` and `nexmark.Event` wherever this module loads (every thread that runs a
 * job using them), so events keep their class across channels, in state and in `collect()`.
 */
import { registerType } from '../../api/registered-types.js';

/** Kinds of event, as the SQL's `event_type`. */
export const EventType = { PERSON: 0, AUCTION: 1, BID: 2 } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** A new person (a seller or a bidder). */
export class Person {
  constructor(
    readonly id: number,
    readonly name: string,
    readonly emailAddress: string,
    readonly creditCard: string,
    readonly city: string,
    readonly state: string,
    /** ms since the epoch. */
    readonly dateTime: number,
    readonly extra: string,
  ) {}
}

/** A new auction of an item. */
export class Auction {
  constructor(
    readonly id: number,
    readonly itemName: string,
    readonly description: string,
    /** Cents. */
    readonly initialBid: number,
    /** Cents, above initialBid. */
    readonly reserve: number,
    /** ms since the epoch. */
    readonly dateTime: number,
    /** ms since the epoch, after dateTime. */
    readonly expires: number,
    /** A Person id. */
    readonly seller: number,
    readonly category: number,
    readonly extra: string,
  ) {}
}

/** A bid on an auction. */
export class Bid {
  constructor(
    /** An Auction id. */
    readonly auction: number,
    /** A Person id (offset by 2000, as the Flink generator's: see bid.ts). */
    readonly bidder: number,
    /** Cents, 100 to 1e8. */
    readonly price: number,
    readonly channel: string,
    readonly url: string,
    /** ms since the epoch. */
    readonly dateTime: number,
    readonly extra: string,
  ) {}
}

/** One generated event: exactly one of person, auction, bid is set, as `eventType` says. nexmark: `Event`. */
export class NexmarkEvent {
  constructor(
    readonly eventType: EventType,
    readonly person: Person | null,
    readonly auction: Auction | null,
    readonly bid: Bid | null,
  ) {}

  /** The event time of whichever entity it carries, ms since the epoch (the SQL's computed `dateTime`). */
  get dateTime(): number {
    return (this.person ?? this.auction ?? this.bid)!.dateTime;
  }
}

registerType(Person, { name: 'nexmark.Person' });
registerType(Auction, { name: 'nexmark.Auction' });
registerType(Bid, { name: 'nexmark.Bid' });
registerType(NexmarkEvent, { name: 'nexmark.Event' });
