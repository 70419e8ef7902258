export { NexmarkConfig, firstAuctionId, firstCategoryId, firstPersonId } from './config.js';
export type { NexmarkOptions } from './config.js';
export { Auction, Bid, EventType, NexmarkEvent, Person } from './model.js';
export { NexmarkGenerator } from './generator.js';
export { NexmarkSource } from './source.js';
export type { NexmarkSourceOptions } from './source.js';
export { lastBase0PersonId, personIdLead } from './person.js';
export { auctionIdLead, hotBatchSize, lastBase0AuctionId, numCategories } from './auction.js';
export { channelsNumber, hotChannels } from './bid.js';
