/**
 * Event number -> Nexmark event: the kind from the event id (`eventId % 50`: below 1 a
 * person, below 4 an auction, else a bid), the timestamp from the adjusted event number,
 * the contents from the event's own random source. nexmark/nexmark:
 * `generator/NexmarkGenerator.nextEvent`, without its state: the Flink generator counts
 * events it emitted (`eventsCountSoFar`); here the caller passes the 0-based position in
 * the stream, so any split can produce any event (see source.ts).
 */
import { nextAuction } from './auction.js';
import { BidChannels, nextBid } from './bid.js';
import { NexmarkConfig } from './config.js';
import type { NexmarkOptions } from './config.js';
import { EventType, NexmarkEvent } from './model.js';
import { nextPerson } from './person.js';
import { EventRandom } from './random.js';
import { ExtraStrings } from './strings.js';

export class NexmarkGenerator {
  readonly config: NexmarkConfig;
  private readonly random = new EventRandom();
  private extrasCache: ExtraStrings | undefined;
  private channelsCache: BidChannels | undefined;

  /** @throws RangeError for a bad option (see NexmarkConfig). */
  constructor(options: NexmarkOptions | NexmarkConfig = {}) {
    this.config = options instanceof NexmarkConfig ? options : new NexmarkConfig(options);
  }

  /** The event at 0-based position `index` (a safe integer >= 0) of the stream. */
  event(index: number): NexmarkEvent {
    const config = this.config;
    const eventNumber = config.eventNumber(index);
    const adjusted = config.adjustedEventNumber(eventNumber);
    const eventId = config.firstEventId + adjusted;
    const timestampMs = config.timestampForEvent(adjusted);
    const random = this.random.reset(config.seed, eventNumber);
    const extras = (this.extrasCache ??= new ExtraStrings(config.seed));
    const rem = eventId % config.totalProportion;
    if (rem < config.personProportion) {
      return new NexmarkEvent(EventType.PERSON, nextPerson(config, random, extras, eventId, timestampMs), null, null);
    }
    if (rem < config.personProportion + config.auctionProportion) {
      return new NexmarkEvent(EventType.AUCTION, null, nextAuction(config, random, extras, eventId, eventNumber, timestampMs), null);
    }
    const channels = (this.channelsCache ??= new BidChannels(config.seed));
    return new NexmarkEvent(EventType.BID, null, null, nextBid(config, random, extras, channels, eventId, timestampMs));
  }

  /** The watermark after the event at `index`: no later event is older. nexmark: `NextEvent.watermark`. */
  watermarkAfter(index: number): number {
    const config = this.config;
    return config.timestampForEvent(config.watermarkEventNumber(config.eventNumber(index)));
  }
}
