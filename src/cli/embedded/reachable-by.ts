import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { OsUser } from './os-user.js';

/**
 * Whether `user` can traverse every directory down to `dir` (its nearest existing ancestor):
 * the embedded server runs as that user and must reach its data directory.
 */
export async function reachableBy(dir: string, user: OsUser): Promise<boolean> {
  let current = path.resolve(dir);
  const chain: string[] = [];
  for (;;) {
    chain.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const entry of chain.reverse()) {
    let info;
    try {
      info = await stat(entry);
    } catch {
      return true; // Not created yet: we create it and hand it over.
    }
    const canEnter =
      info.uid === user.uid
        ? (info.mode & 0o100) !== 0
        : info.gid === user.gid
          ? (info.mode & 0o010) !== 0
          : (info.mode & 0o001) !== 0;
    if (!canEnter) return false;
  }
  return true;
}
