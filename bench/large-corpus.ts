/**
 * A larger word-count input built deterministically from the State of the Union corpus:
 * the corpus's words (lowercased, in file-name order) taken `copies` times, copy c > 0
 * with every word suffixed by `x` and the letter c (`the` -> `thexb`), cut at
 * `wordCount` words. Each copy brings its own vocabulary, so the distinct words grow
 * with the copies as they would in a larger natural corpus (about 7.6 copies give the
 * 13.6 M words and ~180 k distinct words that issue 11 measured). Written as one
 * `copy-<c>.txt` file per copy, 16 words a line, so parallel sources split the input.
 */
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface LargeCorpus {
  dir: string;
  files: number;
  words: number;
  distinct: number;
  bytes: number;
}

/** Words per output line. */
const wordsPerLine = 16;
/** Bytes gathered before a write call. */
const writeChunkBytes = 1 << 20;

/** The corpus's words in file-name order, lowercased, as the word count tokenizes them. */
function corpusWords(sotuDir: string): string[] {
  const words: string[] = [];
  for (const name of readdirSync(sotuDir).filter((n) => n.endsWith('.txt')).sort()) {
    for (const token of readFileSync(join(sotuDir, name), 'utf8').split(/[^A-Za-z]+/)) if (token !== '') words.push(token.toLowerCase());
  }
  return words;
}

/**
 * Writes the corpus of `wordCount` words into `dir` (created). Throws `RangeError` when
 * more than 26 copies would be needed, or the fs error.
 */
export function writeLargeCorpus(sotuDir: string, dir: string, wordCount: number): LargeCorpus {
  const source = corpusWords(sotuDir);
  assert.ok(source.length > 0, `no words in ${sotuDir}`);
  const copies = Math.ceil(wordCount / source.length);
  if (copies > 26) throw new RangeError(`writeLargeCorpus: ${wordCount} words need ${copies} copies of the corpus, at most 26`);
  mkdirSync(dir, { recursive: true });
  const distinct = new Set<string>();
  let words = 0;
  let bytes = 0;
  for (let copy = 0; copy < copies && words < wordCount; copy++) {
    const suffix = copy === 0 ? '' : `x${String.fromCharCode(0x61 + copy)}`;
    const fd = openSync(join(dir, `copy-${copy}.txt`), 'w');
    let chunk = '';
    try {
      for (let i = 0; i < source.length && words < wordCount; i++) {
        const word = source[i]! + suffix;
        distinct.add(word);
        words++;
        chunk += words % wordsPerLine === 0 ? `${word}\n` : `${word} `;
        if (chunk.length >= writeChunkBytes) {
          bytes += writeSync(fd, chunk);
          chunk = '';
        }
      }
      bytes += writeSync(fd, `${chunk}\n`);
    } finally {
      closeSync(fd);
    }
  }
  return { dir, files: copies, words, distinct: distinct.size, bytes };
}
