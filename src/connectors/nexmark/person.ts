/**
 * Persons, and the person ids that auctions and bids refer to. nexmark/nexmark:
 * `generator/model/PersonGenerator` (`nextPerson`, `lastBase0PersonId`,
 * `nextBase0PersonId`). "Base 0" ids count persons from 0; events carry them plus
 * `firstPersonId`.
 */
import type { NexmarkConfig } from './config.js';
import { firstPersonId } from './config.js';
import { Person } from './model.js';
import type { EventRandom } from './random.js';
import type { ExtraStrings } from './strings.js';
import { nextString } from './strings.js';

/** Ids past the last person a random choice may take (a person not generated yet). nexmark: `PERSON_ID_LEAD`. */
export const personIdLead = 10;

const usStates = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
const usCities = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
const firstNames = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const lastNames = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];

/** The base-0 id of the latest person at event id `eventId` (the person of that event if it is one). */
export function lastBase0PersonId(config: NexmarkConfig, eventId: number): number {
  const epoch = Math.trunc(eventId / config.totalProportion);
  let offset = eventId % config.totalProportion;
  // An auction or a bid: the last person of this cycle.
  if (offset >= config.personProportion) offset = config.personProportion - 1;
  return epoch * config.personProportion + offset;
}

/** A random base-0 person id among the `numActivePeople` latest, or up to `personIdLead` ahead. */
export function nextBase0PersonId(config: NexmarkConfig, random: EventRandom, eventId: number): number {
  const numPeople = lastBase0PersonId(config, eventId) + 1;
  const active = Math.min(numPeople, config.numActivePeople);
  return numPeople - active + random.nextInt(active + personIdLead);
}

function pick(random: EventRandom, list: readonly string[]): string {
  return list[random.nextInt(list.length)]!;
}

/** Four groups of four digits, space-separated. */
function nextCreditCard(random: EventRandom): string {
  let out = '';
  for (let i = 0; i < 4; i++) out += (i > 0 ? ' ' : '') + String(random.nextInt(10_000)).padStart(4, '0');
  return out;
}

/** The person of event `eventId`, at `timestampMs`. nexmark: `PersonGenerator.nextPerson`. */
export function nextPerson(config: NexmarkConfig, random: EventRandom, extras: ExtraStrings, eventId: number, timestampMs: number): Person {
  const id = lastBase0PersonId(config, eventId) + firstPersonId;
  const name = `${pick(random, firstNames)} ${pick(random, lastNames)}`;
  const email = `${nextString(random, 7)}@${nextString(random, 5)}.com`;
  const creditCard = nextCreditCard(random);
  const city = pick(random, usCities);
  const state = pick(random, usStates);
  const size = 8 + name.length + email.length + creditCard.length + city.length + state.length;
  return new Person(id, name, email, creditCard, city, state, timestampMs, extras.next(random, size, config.avgPersonByteSize));
}
