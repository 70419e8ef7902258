/**
 * Random strings of Nexmark's events and prices. nexmark/nexmark:
 * `generator/model/StringsGenerator` (`nextString`, `nextExactString`, `nextExtra`, the
 * 1 MiB reusable string the padding is cut from) and `PriceGenerator`.
 */
import { EventRandom } from './random.js';

/** Shortest random string before trimming. nexmark: `MIN_STRING_LENGTH`. */
const minStringLength = 3;
/** Length of the string `extra` padding is cut from, chars. nexmark: `REUSABLE_EXTRA_STRING`. */
export const reusableExtraLength = 1024 * 1024;

const charCodeA = 97;
const charCodeSpace = 32;

/**
 * A string of 3 to `maxLength - 1` chars before trimming: each char is `special` (a space
 * by default) with probability 1/13, else a letter a-z; then trimmed of spaces at both ends.
 */
export function nextString(random: EventRandom, maxLength: number, special = charCodeSpace): string {
  let length = minStringLength + random.nextInt(maxLength - minStringLength);
  let out = '';
  while (length-- > 0) {
    out += String.fromCharCode(random.nextInt(13) === 0 ? special : charCodeA + random.nextInt(26));
  }
  return out.trim();
}

/** Letters a-z, `length` of them, from `random`. */
function randomLetters(random: EventRandom, length: number): string {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = charCodeA + random.nextInt(26);
  return bytes.toString('latin1');
}

/** Padding of events: substrings of one random string per seed (built once per thread). */
export class ExtraStrings {
  private readonly reusable: string;

  constructor(seed: number) {
    // Event numbers are >= 0, so a negative one would collide with none; use a seed of its own.
    this.reusable = randomLetters(new EventRandom().reset(seed ^ 0x7f4a7c15, 0), reusableExtraLength);
  }

  /** `length` letters (below half the reusable string's length: a substring of it). nexmark: `nextExactString`. */
  exact(random: EventRandom, length: number): string {
    if (length >= reusableExtraLength / 2) return randomLetters(random, length);
    const at = random.nextInt(reusableExtraLength - length);
    return this.reusable.slice(at, at + length);
  }

  /**
   * Padding so that an event of `currentSize` bytes is `averageSize` bytes on average:
   * empty when it is already larger; else d = averageSize - currentSize, delta =
   * round(0.2 d), and a length uniform in [d - delta, d + delta). nexmark: `nextExtra`.
   */
  next(random: EventRandom, currentSize: number, averageSize: number): string {
    if (currentSize > averageSize) return '';
    const wanted = averageSize - currentSize;
    const delta = Math.round(wanted * 0.2);
    const length = wanted - delta + (delta === 0 ? 0 : random.nextInt(2 * delta));
    return this.exact(random, length);
  }
}

/** A price in cents, log-uniform: round(10^(6u) * 100) for u in [0, 1): 100 to 1e8. nexmark: `PriceGenerator.nextPrice`. */
export function nextPrice(random: EventRandom): number {
  return Math.round(Math.pow(10, random.nextDouble() * 6) * 100);
}
