/**
 * The word count of examples/wordcount.ts as a plain single-threaded loop: the reference
 * the engine's overhead is measured against. Same tokenizing (split on /[^A-Za-z]+/,
 * lowercase), same running count per word, same output (`word<TAB>count` for every
 * occurrence, written in 64 KiB chunks and fsynced at the end, as the text sink does).
 */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface PlainWordCountResult {
  /** Words read (= lines written). */
  words: number;
  /** Distinct words. */
  distinct: number;
  /** Bytes written to the output file. */
  bytesWritten: number;
}

/** Bytes of text gathered before a write call: the text sink's buffer size. */
const writeChunkBytes = 1 << 16;

/**
 * Counts the words of every `*.txt` file of `inputDir` (in name order) and writes one
 * line per occurrence to `outputFile` (overwritten). @throws the fs error on any failure.
 */
export function plainWordCount(inputDir: string, outputFile: string): PlainWordCountResult {
  const files = readdirSync(inputDir)
    .filter((n) => n.endsWith('.txt'))
    .sort();
  const counts = new Map<string, number>();
  const fd = openSync(outputFile, 'w');
  let chunks: string[] = [];
  let chunkBytes = 0;
  let bytesWritten = 0;
  let words = 0;
  const flush = (): void => {
    const text = chunks.join('');
    writeSync(fd, text);
    bytesWritten += Buffer.byteLength(text);
    chunks = [];
    chunkBytes = 0;
  };
  try {
    for (const name of files) {
      const text = readFileSync(join(inputDir, name), 'utf8');
      for (const token of text.split(/[^A-Za-z]+/)) {
        if (token === '') continue;
        const word = token.toLowerCase();
        const next = (counts.get(word) ?? 0) + 1;
        counts.set(word, next);
        const line = `${word}\t${next}\n`;
        chunks.push(line);
        chunkBytes += line.length;
        words++;
        if (chunkBytes >= writeChunkBytes) flush();
      }
    }
    flush();
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { words, distinct: counts.size, bytesWritten };
}
