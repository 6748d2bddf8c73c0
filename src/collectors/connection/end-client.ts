import type pg from 'pg';
import { settlesWithin } from '../../core/timeout.js';

/** How long a closing connection may wait for the server before its socket is destroyed. */
export const END_GRACE_MS = 1_000;

/**
 * Closes a client. end() waits for the server to close the socket; a peer that stopped
 * answering would hold shutdown for minutes, so after a grace period the socket is destroyed.
 */
export async function endClient(
  client: pg.Client,
  onError: (err: unknown) => void = () => undefined,
): Promise<void> {
  const ending = client.end().catch(onError);
  if (!(await settlesWithin(ending, END_GRACE_MS))) {
    (
      client as unknown as { connection?: { stream?: { destroy(): void } } }
    ).connection?.stream?.destroy();
  }
}
