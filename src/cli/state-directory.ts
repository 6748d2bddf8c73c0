import { lstatSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/**
 * The directory one-shot runs keep state in, created 0700 and checked: a directory (not a
 * link), ours, writable by nobody else. Under a shared temp dir another local user could
 * otherwise plant it, or links in it, and have the agent (often root) write where they chose.
 * Returns undefined, with a warning, when it cannot be trusted: runs then keep no state.
 */
export function prepareStateDirectory(
  configured: string | undefined,
  logger: Logger,
): string | undefined {
  const uid = process.getuid?.();
  // Our own subdirectory even inside TEMP_DIR, so its permissions are ours to set.
  const dir =
    configured === undefined
      ? path.join(os.tmpdir(), `pgquerylens-${uid ?? os.userInfo().username}`)
      : path.join(configured, 'pgquerylens');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    const problem = !stat.isDirectory()
      ? 'is not a directory'
      : uid !== undefined && stat.uid !== uid
        ? `belongs to uid ${stat.uid}, not to this user (${uid})`
        : (stat.mode & 0o022) !== 0
          ? 'is writable by other users'
          : undefined;
    if (problem === undefined) return dir;
    logger.warn(`state directory ${problem}; keeping no state between runs`, { dir });
  } catch (err) {
    logger.warn('cannot create the state directory; keeping no state between runs', {
      dir,
      err: errorMessage(err),
    });
  }
  return undefined;
}
