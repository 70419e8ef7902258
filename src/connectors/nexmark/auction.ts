/**
 * Auctions, and the auction ids that bids refer to. nexmark/nexmark:
 * `generator/model/AuctionGenerator` (`nextAuction`, `lastBase0AuctionId`,
 * `nextBase0AuctionId`, `nextAuctionLengthMs`, `nextSellerIdWithRandom`,
 * `nextCategoryWithRandom`).
 */
import type { NexmarkConfig } from './config.js';
import { firstAuctionId, firstCategoryId, firstPersonId } from './config.js';
import { Auction } from './model.js';
import { lastBase0PersonId, nextBase0PersonId } from './person.js';
import type { EventRandom } from './random.js';
import type { ExtraStrings } from './strings.js';
import { nextPrice, nextString } from './strings.js';

/** Categories are 10 to 14. nexmark: `NUM_CATEGORIES`. */
export const numCategories = 5;
/** Ids past the last auction a random choice may take. nexmark: `AUCTION_ID_LEAD`. */
export const auctionIdLead = 10;
/** Hot sellers, auctions and bidders are the first of each batch of this many ids. nexmark: `HOT_SELLER_RATIO` (and the bid generator's). */
export const hotBatchSize = 100;

/** The base-0 id of the latest auction at event id `eventId` (the auction of that event if it is one). */
export function lastBase0AuctionId(config: NexmarkConfig, eventId: number): number {
  let epoch = Math.trunc(eventId / config.totalProportion);
  let offset = eventId % config.totalProportion;
  if (offset < config.personProportion) {
    // A person: the last auction of the previous cycle.
    epoch--;
    offset = config.auctionProportion - 1;
  } else if (offset >= config.personProportion + config.auctionProportion) {
    // A bid: the last auction of this cycle.
    offset = config.auctionProportion - 1;
  } else {
    offset -= config.personProportion;
  }
  return epoch * config.auctionProportion + offset;
}

/** A random base-0 auction id among the `numInFlightAuctions` latest, or up to `auctionIdLead` ahead. */
export function nextBase0AuctionId(config: NexmarkConfig, random: EventRandom, eventId: number): number {
  const max = lastBase0AuctionId(config, eventId);
  const min = Math.max(max - config.numInFlightAuctions, 0);
  return min + random.nextInt(max - min + 1 + auctionIdLead);
}

/**
 * How long an auction runs, ms: 1 + uniform below twice the event time until
 * `numInFlightAuctions` more auctions will have been generated.
 */
function nextAuctionLengthMs(config: NexmarkConfig, random: EventRandom, eventNumber: number, timestampMs: number): number {
  const current = config.adjustedEventNumber(eventNumber);
  const eventsForAuctions = Math.trunc((config.numInFlightAuctions * config.totalProportion) / config.auctionProportion);
  const horizonMs = config.timestampForEvent(current + eventsForAuctions) - timestampMs;
  return 1 + random.nextInt(Math.max(horizonMs * 2, 1));
}

/** With probability 1 - 1/hotSellersRatio the first person of the latest batch of 100, else a random one (base 0). */
function nextSeller(config: NexmarkConfig, random: EventRandom, eventId: number): number {
  if (random.nextInt(config.hotSellersRatio) > 0) return Math.trunc(lastBase0PersonId(config, eventId) / hotBatchSize) * hotBatchSize;
  return nextBase0PersonId(config, random, eventId);
}

/** The auction of event `eventId` (event number `eventNumber`), at `timestampMs`. nexmark: `AuctionGenerator.nextAuction`. */
export function nextAuction(config: NexmarkConfig, random: EventRandom, extras: ExtraStrings, eventId: number, eventNumber: number, timestampMs: number): Auction {
  const id = lastBase0AuctionId(config, eventId) + firstAuctionId;
  const seller = nextSeller(config, random, eventId) + firstPersonId;
  const category = firstCategoryId + random.nextInt(numCategories);
  const initialBid = nextPrice(random);
  const expires = timestampMs + nextAuctionLengthMs(config, random, eventNumber, timestampMs);
  const itemName = nextString(random, 20);
  const description = nextString(random, 100);
  const reserve = initialBid + nextPrice(random);
  const size = 8 + itemName.length + description.length + 8 + 8 + 8 + 8 + 8;
  const extra = extras.next(random, size, config.avgAuctionByteSize);
  return new Auction(id, itemName, description, initialBid, reserve, timestampMs, expires, seller, category, extra);
}
