import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PendingBatch } from '../../../src/adapters/datastore/pending-batch.js';

/** A complete spool file: `<sequence>-<rows>-<id>.json` (a `.tmp` is a write cut short). */
const SPOOL_FILE = /^(\d{16})-(\d+)-([0-9a-f]+)\.json$/;

/** The names of the spool's complete batch files, oldest first. */
export async function spoolFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => SPOOL_FILE.test(f)).sort();
  } catch {
    return [];
  }
}

/** A spooled batch as it lies on disk, with the file it was read from. */
export interface SpooledBatch {
  readonly file: string;
  readonly batch: PendingBatch;
}

/** Reads every complete spool file: what a restart will replay. */
export async function readSpool(dir: string): Promise<SpooledBatch[]> {
  const out: SpooledBatch[] = [];
  for (const file of await spoolFiles(dir)) {
    const batch = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as PendingBatch;
    const [, , rows, id] = SPOOL_FILE.exec(file) ?? [];
    // The name is what the replay indexes by; it must describe the content.
    if (batch.id !== id || String(batch.rows) !== rows) {
      throw new Error(`spool file ${file} does not match its content (${batch.id}, ${batch.rows})`);
    }
    out.push({ file, batch });
  }
  return out;
}
