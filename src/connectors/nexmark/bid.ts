/**
 * Bids. nexmark/nexmark: `generator/model/BidGenerator` (`nextBid`, the hot channels and
 * the cache of 10,000 channel URLs).
 *
 * Kept from the Flink port on purpose: the bidder id gets `firstPersonId` added twice, so
 * bidders are offset by 2000 from person ids (Beam's generator adds it once).
 */
import { hotBatchSize, lastBase0AuctionId, nextBase0AuctionId } from './auction.js';
import type { NexmarkConfig } from './config.js';
import { firstAuctionId, firstPersonId } from './config.js';
import { Bid } from './model.js';
import { lastBase0PersonId, nextBase0PersonId } from './person.js';
import { EventRandom } from './random.js';
import type { ExtraStrings } from './strings.js';
import { nextPrice, nextString } from './strings.js';

/** Half the bids come from a hot channel. nexmark: `HOT_CHANNELS_RATIO`. */
const hotChannelsRatio = 2;
/** Channels `channel-0` to `channel-9999`. nexmark: `CHANNELS_NUMBER`. */
export const channelsNumber = 10_000;
export const hotChannels = ['Google', 'Facebook', 'Baidu', 'Apple'] as const;
/** Size of a bid before `extra`, bytes. */
const bidSizeBytes = 8 + 8 + 8 + 8;

/** `Integer.reverse(i)`: the 32 bits of i in reverse order, as a signed 32-bit integer. */
function reverseBits32(i: number): number {
  let v = i >>> 0;
  let r = 0;
  for (let b = 0; b < 32; b++) {
    r = (r << 1) | (v & 1);
    v >>>= 1;
  }
  return r | 0;
}

/** The hot channels' URLs and the channel cache, drawn once per seed (the Flink port: once per JVM, unseeded). */
export class BidChannels {
  readonly hotUrls: string[];
  readonly names: string[] = [];
  readonly urls: string[] = [];

  constructor(seed: number) {
    const random = new EventRandom().reset(seed ^ 0x2545f491, 0);
    this.hotUrls = hotChannels.map(() => BidChannels.baseUrl(random));
    for (let i = 0; i < channelsNumber; i++) {
      let url = BidChannels.baseUrl(random);
      // 90% of the channel URLs name their channel id.
      if (random.nextInt(10) > 0) url += `&channel_id=${Math.abs(reverseBits32(i))}`;
      this.names.push(`channel-${i}`);
      this.urls.push(url);
    }
  }

  /** `https://www.nexmark.com/<s>/<s>/<s>/item.htm?query=1`, each s up to 4 chars with `_` as the special char. */
  static baseUrl(random: EventRandom): string {
    const underscore = 95;
    return `https://www.nexmark.com/${nextString(random, 5, underscore)}/${nextString(random, 5, underscore)}/${nextString(random, 5, underscore)}/item.htm?query=1`;
  }
}

/** The bid of event `eventId`, at `timestampMs`. nexmark: `BidGenerator.nextBid`. */
export function nextBid(config: NexmarkConfig, random: EventRandom, extras: ExtraStrings, channels: BidChannels, eventId: number, timestampMs: number): Bid {
  // P(hot auction) = 1 - 1/hotAuctionRatio: the first auction of the latest batch of 100.
  const auction =
    (random.nextInt(config.hotAuctionRatio) > 0
      ? Math.trunc(lastBase0AuctionId(config, eventId) / hotBatchSize) * hotBatchSize
      : nextBase0AuctionId(config, random, eventId)) + firstAuctionId;
  // P(hot bidder) = 1 - 1/hotBiddersRatio: the second person of the latest batch (the first is the hot seller).
  let bidder =
    (random.nextInt(config.hotBiddersRatio) > 0
      ? Math.trunc(lastBase0PersonId(config, eventId) / hotBatchSize) * hotBatchSize + 1
      : nextBase0PersonId(config, random, eventId)) + firstPersonId;
  const price = nextPrice(random);
  let channel: string;
  let url: string;
  if (random.nextInt(hotChannelsRatio) > 0) {
    const i = random.nextInt(hotChannels.length);
    channel = hotChannels[i]!;
    url = channels.hotUrls[i]!;
  } else {
    const i = random.nextInt(channelsNumber);
    channel = channels.names[i]!;
    url = channels.urls[i]!;
  }
  bidder += firstPersonId;
  return new Bid(auction, bidder, price, channel, url, timestampMs, extras.next(random, bidSizeBytes, config.avgBidByteSize));
}
