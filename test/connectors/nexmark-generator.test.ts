// The Nexmark generator against the rules of nexmark/nexmark's Flink generator
// (GeneratorConfig, PersonGenerator, AuctionGenerator, BidGenerator, StringsGenerator,
// PriceGenerator): kinds per 50 events, ids and their ranges, the hot ratios (counted over
// many events, with bounds far outside sampling noise), prices, strings, timestamps from
// the inter-event delay and the out-of-order groups, and reproducibility from the seed.
import t from 'tap';
import {
  EventType,
  NexmarkConfig,
  NexmarkGenerator,
  auctionIdLead,
  channelsNumber,
  firstAuctionId,
  firstPersonId,
  hotChannels,
  lastBase0AuctionId,
  lastBase0PersonId,
  NexmarkSource,
  personIdLead,
} from '../../src/connectors/nexmark/index.js';
import type { IndexSplit } from '../../src/connectors/index.js';
import type { Auction, Bid, NexmarkEvent, Person } from '../../src/connectors/nexmark/index.js';
import { createBatchDecoder, createBatchEncoder } from '../../src/task/batch-codec.js';
import { testSeed } from '../helpers/random.js';
import { FakeEnumeratorContext } from '../helpers/sources.js';

const seed = testSeed(Date.now() % 1_000_000);
t.comment(`seed ${seed} (replay with SLUICE_SEED=${seed})`);
const baseTimeMs = 1_700_000_000_000;

function events(gen: NexmarkGenerator, count: number, from = 0): NexmarkEvent[] {
  return Array.from({ length: count }, (_, i) => gen.event(from + i));
}

t.test('kinds: 1 person, 3 auctions, 46 bids in every 50 consecutive events, by event id', (t) => {
  const gen = new NexmarkGenerator({ seed, baseTimeMs });
  const all = events(gen, 5000, 123);
  for (let start = 0; start + 50 <= all.length; start += 50) {
    const window = all.slice(start, start + 50);
    const counts = [0, 0, 0];
    for (const e of window) counts[e.eventType]!++;
    if (counts[0] !== 1 || counts[1] !== 3 || counts[2] !== 46) return t.fail(`events ${123 + start}..: ${counts.join(':')}`);
  }
  // Flink's table source: firstEventId 1 and firstEventNumber 1, so event 0 has id 2 (an auction).
  t.equal(gen.event(0).eventType, EventType.AUCTION);
  t.equal(gen.event(48).eventType, EventType.PERSON, 'event id 50: the person of its cycle');
  t.end();
});

t.test('ids: persons and auctions numbered in order from 1000; bids refer to existing ids or a few ahead', (t) => {
  const config = new NexmarkConfig({ seed, baseTimeMs });
  const gen = new NexmarkGenerator(config);
  // Flink's event ids start at 2, so the first person and auction generated are 1001 (1000 only ever appears as a hot id).
  let lastPerson = firstPersonId;
  let lastAuction = firstAuctionId;
  const problems: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const e = gen.event(i);
    const eventId = config.eventId(config.eventNumber(i));
    const personNow = lastBase0PersonId(config, eventId) + firstPersonId;
    const auctionNow = lastBase0AuctionId(config, eventId) + firstAuctionId;
    if (e.person !== null) {
      if (e.person.id !== lastPerson + 1) problems.push(`person ${e.person.id} after ${lastPerson}`);
      lastPerson = e.person.id;
    } else if (e.auction !== null) {
      const a = e.auction;
      if (a.id !== lastAuction + 1) problems.push(`auction ${a.id} after ${lastAuction}`);
      lastAuction = a.id;
      if (a.seller < firstPersonId || a.seller > personNow + personIdLead) problems.push(`auction ${a.id}: seller ${a.seller} outside [1000, ${personNow + personIdLead}]`);
      if (a.category < 10 || a.category > 14) problems.push(`auction ${a.id}: category ${a.category}`);
    } else {
      const b = e.bid!;
      const minAuction = Math.max(auctionNow - 100, firstAuctionId);
      if (b.auction < minAuction || b.auction > auctionNow + auctionIdLead) problems.push(`bid ${i}: auction ${b.auction} outside [${minAuction}, ${auctionNow + auctionIdLead}]`);
      // The Flink port adds FIRST_PERSON_ID twice to bidders.
      const bidder = b.bidder - firstPersonId;
      if (bidder < firstPersonId || bidder > personNow + personIdLead) problems.push(`bid ${i}: bidder ${b.bidder} - 1000 outside [1000, ${personNow + personIdLead}]`);
    }
    if (problems.length > 5) break;
  }
  t.same(problems, []);
  t.ok(lastPerson >= firstPersonId + 390 && lastAuction >= firstAuctionId + 1190, `ids advanced: person ${lastPerson}, auction ${lastAuction}`);
  t.end();
});

t.test('hot ratios: half the bids on the hot auction, 3/4 of bidders and sellers hot (hot auctions 2, hot bidders 4, hot sellers 4)', (t) => {
  const config = new NexmarkConfig({ seed, baseTimeMs });
  const gen = new NexmarkGenerator(config);
  let bids = 0;
  let hotAuction = 0;
  let hotBidder = 0;
  let auctions = 0;
  let hotSeller = 0;
  for (let i = 0; i < 200_000; i++) {
    const e = gen.event(i);
    const eventId = config.eventId(config.eventNumber(i));
    const hotAuctionId = Math.trunc(lastBase0AuctionId(config, eventId) / 100) * 100 + firstAuctionId;
    const hotPerson = Math.trunc(lastBase0PersonId(config, eventId) / 100) * 100 + firstPersonId;
    if (e.bid !== null) {
      bids++;
      if (e.bid.auction === hotAuctionId) hotAuction++;
      if (e.bid.bidder === hotPerson + 1 + firstPersonId) hotBidder++;
    } else if (e.auction !== null) {
      auctions++;
      if (e.auction.seller === hotPerson) hotSeller++;
    }
  }
  // The random choices also hit the hot ids now and then (about 1/110 of them): a little above the ratio.
  const share = (n: number, of: number): number => n / of;
  t.ok(share(hotAuction, bids) > 0.49 && share(hotAuction, bids) < 0.52, `hot auction share ${share(hotAuction, bids).toFixed(4)} of ${bids} bids`);
  t.ok(share(hotBidder, bids) > 0.745 && share(hotBidder, bids) < 0.76, `hot bidder share ${share(hotBidder, bids).toFixed(4)}`);
  t.ok(share(hotSeller, auctions) > 0.735 && share(hotSeller, auctions) < 0.77, `hot seller share ${share(hotSeller, auctions).toFixed(4)} of ${auctions} auctions`);
  t.end();
});

t.test('prices, strings, channels and sizes follow the reference rules', (t) => {
  const gen = new NexmarkGenerator({ seed, baseTimeMs });
  const problems: string[] = [];
  const prices: number[] = [];
  const bidSizes: number[] = [];
  const channelKinds = { hot: 0, other: 0 };
  for (const e of events(gen, 30_000)) {
    if (e.person !== null) {
      const p: Person = e.person;
      if (!/^(Peter|Paul|Luke|John|Saul|Vicky|Kate|Julie|Sarah|Deiter|Walter) (Shultz|Abrams|Spencer|White|Bartels|Walton|Smith|Jones|Noris)$/.test(p.name)) problems.push(`name ${p.name}`);
      if (!/^[a-z ]{0,6}@[a-z ]{0,4}\.com$/.test(p.emailAddress)) problems.push(`email ${p.emailAddress}`);
      if (!/^\d{4} \d{4} \d{4} \d{4}$/.test(p.creditCard)) problems.push(`credit card ${p.creditCard}`);
      if (!['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'].includes(p.state)) problems.push(`state ${p.state}`);
    } else if (e.auction !== null) {
      const a: Auction = e.auction;
      if (a.itemName.length > 19 || a.itemName !== a.itemName.trim()) problems.push(`item name "${a.itemName}"`);
      if (a.description.length > 99 || !/^[a-z ]*$/.test(a.description)) problems.push(`description "${a.description}"`);
      if (!(a.reserve > a.initialBid) || !(a.expires > a.dateTime)) problems.push(`auction ${a.id}: reserve ${a.reserve} initial ${a.initialBid} expires ${a.expires}`);
    } else {
      const b: Bid = e.bid!;
      prices.push(b.price);
      bidSizes.push(32 + b.extra.length);
      if (!/^https:\/\/www\.nexmark\.com\/[a-z_]{3,4}\/[a-z_]{3,4}\/[a-z_]{3,4}\/item\.htm\?query=1(&channel_id=\d+)?$/.test(b.url)) problems.push(`url ${b.url}`);
      if ((hotChannels as readonly string[]).includes(b.channel)) channelKinds.hot++;
      else if (/^channel-\d+$/.test(b.channel) && Number(b.channel.slice(8)) < channelsNumber) channelKinds.other++;
      else problems.push(`channel ${b.channel}`);
    }
    if (problems.length > 5) break;
  }
  t.same(problems, []);
  t.ok(Math.min(...prices) >= 100 && Math.max(...prices) <= 1e8, 'prices from 100 to 1e8 cents');
  // Log-uniform: about a sixth of the prices in each decade; the median near 10^3 * 100.
  const sorted = [...prices].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1]!;
  t.ok(median > 60_000 && median < 160_000, `median price ${median} near 100,000`);
  const meanSize = bidSizes.reduce((s, n) => s + n, 0) / bidSizes.length;
  t.ok(Math.abs(meanSize - 100) < 1.5, `bids average 100 bytes (${meanSize.toFixed(2)})`);
  const hotShare = channelKinds.hot / (channelKinds.hot + channelKinds.other);
  t.ok(hotShare > 0.48 && hotShare < 0.52, `half the bids from hot channels (${hotShare.toFixed(3)})`);
  t.end();
});

t.test('timestamps: from the inter-event delay; within an out-of-order group shuffled, never below the group watermark', (t) => {
  const inOrder = new NexmarkGenerator({ seed, baseTimeMs, firstEventRate: 1000 });
  // 1000 events/s: event number n (index n - 1) at baseTime + n ms.
  t.equal(inOrder.event(0).dateTime, baseTimeMs + 1);
  t.equal(inOrder.event(9_999).dateTime, baseTimeMs + 10_000);
  // 953 = 3 (mod 10): n -> (n / 10) * 10 + (953 n) % 10 permutes each group of 10.
  const g = 10;
  const shuffled = new NexmarkGenerator({ seed, baseTimeMs, firstEventRate: 1000, outOfOrderGroupSize: g });
  const problems: string[] = [];
  let outOfOrder = 0;
  let previous = -Infinity;
  for (let i = 0; i < 5000; i++) {
    const ts = shuffled.event(i).dateTime;
    const n = i + 1;
    const groupStart = baseTimeMs + Math.trunc(n / g) * g;
    if (ts < groupStart || ts >= groupStart + g) problems.push(`event ${i}: ${ts - baseTimeMs} outside its group [${groupStart - baseTimeMs}, +${g})`);
    if (ts < shuffled.watermarkAfter(i)) problems.push(`event ${i} below the watermark`);
    if (ts < previous) outOfOrder++;
    previous = ts;
  }
  t.same(problems, []);
  t.ok(outOfOrder > 500, `events out of order within groups (${outOfOrder})`);
  // Each group holds each timestamp once.
  const group = Array.from({ length: g }, (_, k) => shuffled.event(69 + k).dateTime - baseTimeMs);
  t.not(group.join(), [70, 71, 72, 73, 74, 75, 76, 77, 78, 79].join(), 'shuffled');
  t.same([...group].sort((a, b) => a - b), [70, 71, 72, 73, 74, 75, 76, 77, 78, 79]);
  t.end();
});

t.test('reproducible: the same seed gives the same events in any order of generation; another seed other contents, the same ids', (t) => {
  const a = new NexmarkGenerator({ seed, baseTimeMs });
  const b = new NexmarkGenerator({ seed, baseTimeMs });
  const forward = events(a, 500).map((e) => JSON.stringify(e));
  const backward = Array.from({ length: 500 }, (_, i) => JSON.stringify(b.event(499 - i))).reverse();
  t.same(backward, forward);
  const other = new NexmarkGenerator({ seed: seed + 1, baseTimeMs });
  const otherEvents = events(other, 500);
  t.ok(otherEvents.filter((e, i) => JSON.stringify(e) !== forward[i]).length > 400, 'another seed: other contents');
  t.same(otherEvents.map((e) => e.auction?.id ?? e.person?.id ?? -1), events(a, 500).map((e) => e.auction?.id ?? e.person?.id ?? -1), 'the same ids');
  t.end();
});

t.test('bad options are refused with the option named', (t) => {
  t.throws(() => new NexmarkConfig({ hotAuctionRatio: 0 }), /hotAuctionRatio must be an integer >= 1, got 0/);
  t.throws(() => new NexmarkConfig({ seed: 1.5 }), /seed must be an integer >= 0/);
  t.throws(() => new NexmarkConfig({ speed: 3 } as never), /Nexmark has no option "speed"/);
  t.end();
});

t.test('events keep their classes through the batch codec (registered types): a keyed shuffle or collect() gets events, not plain objects', (t) => {
  const gen = new NexmarkGenerator({ seed, baseTimeMs });
  const batch = events(gen, 60);
  const decoded = createBatchDecoder().decode(createBatchEncoder().encode(batch)) as NexmarkEvent[];
  t.equal(decoded.length, 60);
  t.ok(decoded.every((e, i) => e.constructor === batch[i]!.constructor && JSON.stringify(e) === JSON.stringify(batch[i])), 'the same classes and fields');
  t.ok(decoded.every((e) => e.dateTime === (e.person ?? e.auction ?? e.bid)!.dateTime && (e.bid === null || e.bid.constructor.name === 'Bid')), 'methods and nested classes work');
  t.end();
});

t.test('NexmarkSource: unbounded by default, reader k of p emits events k, k+p, ... with their dateTime as record timestamps, at the rate asked', (t) => {
  t.equal(new NexmarkSource().boundedness, 'CONTINUOUS_UNBOUNDED');
  t.equal(new NexmarkSource({ events: 10 }).boundedness, 'BOUNDED');
  t.throws(() => new NexmarkSource({ events: -1 }), /NexmarkSource events must be an integer >= 0 or Infinity, got -1/);
  t.throws(() => new NexmarkSource({ eventsPerSecond: 0 }), /eventsPerSecond must be a finite number > 0, got 0/);

  let nowMs = 0;
  const source = new NexmarkSource({ seed, baseTimeMs, eventsPerSecond: 2000, clock: () => nowMs });
  const ctx = new FakeEnumeratorContext<IndexSplit>(2);
  const enumerator = source.createEnumerator(ctx);
  enumerator.start();
  ctx.registered.add(1);
  enumerator.addReader(1);
  const reader = source.createReader({ subtaskIndex: 1, parallelism: 2, sendSplitRequest: () => enumerator.handleSplitRequest(1) });
  for (const mail of ctx.mailboxes[1]!) if (mail.type === 'addSplits') reader.addSplits(mail.splits);
  const got: Array<{ event: NexmarkEvent; timestampMs: number | undefined }> = [];
  const output = { collect: (event: NexmarkEvent, timestampMs?: number) => void got.push({ event, timestampMs }) };
  t.equal(reader.pollNext(output), 'nothing', 'no permit yet');
  nowMs = 20; // 20 ms at 1000 events/s per reader
  while (reader.pollNext(output) === 'more');
  t.equal(got.length, 20, 'the rate: 2000 events/s over 2 readers');
  t.same(got.map((g) => JSON.stringify(g.event)), got.map((_, i) => JSON.stringify(source.generator.event(1 + 2 * i))), 'reader 1 of 2: events 1, 3, 5, ...');
  t.ok(got.every((g) => g.timestampMs === g.event.dateTime), 'record timestamps are the events\' dateTime');
  t.same(reader.snapshotState(1).map((s) => s.next), [41], 'the checkpointed position: the next event');
  void reader.close();
  t.end();
});
