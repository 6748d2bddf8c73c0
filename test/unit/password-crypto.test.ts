import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decryptPassword,
  encryptPassword,
  NONCE_BYTES,
  PasswordDecryptError,
  readServerSecret,
  SALT_BYTES,
} from '../../src/adapters/datastore/password-crypto.js';
import { redact } from '../../src/core/redact.js';

const SECRET = 'unit-test-server-secret-7f3a';
const PLAIN = 'correct horse battery staple';

/**
 * Produced outside the code under test, with Python `cryptography` 48 (PBKDF2HMAC SHA-256,
 * 100 000 iterations, 32 bytes; then AESGCM.encrypt with no associated data), as
 * base64(salt ‖ nonce ‖ ciphertext ‖ tag). The same bytes came out of a WebCrypto script
 * (crypto.subtle: PBKDF2 deriveBits, then AES-GCM encrypt); neither uses node:crypto's
 * createCipheriv path. Inputs:
 *   secret    = 'pgquerylens test vector secret'
 *   plaintext = 'Pässwörd-42 ✓ with spaces'
 *   salt      = 00 01 02 … 0f
 *   nonce     = a0 a1 a2 … ab
 */
const VECTOR = {
  secret: 'pgquerylens test vector secret',
  plaintext: 'Pässwörd-42 ✓ with spaces',
  stored:
    'AAECAwQFBgcICQoLDA0OD6ChoqOkpaanqKmqq+ax8CHLVl1S/xaTVwMr9bWNweUpkrmFxSlB7mogX0pUpZEJOz2kGZQXykSvcQ==',
};

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('password crypto (pgEdge format)', () => {
  it('round-trips, including non-ASCII and empty passwords', async () => {
    for (const plain of [PLAIN, 'päss wörd ✓ 🔑', '']) {
      const stored = await encryptPassword(plain, SECRET);
      expect(await decryptPassword(stored, SECRET)).toBe(plain);
    }
  });

  it('gives a different value each time (random salt and nonce)', async () => {
    const a = await encryptPassword(PLAIN, SECRET);
    const b = await encryptPassword(PLAIN, SECRET);
    expect(a).not.toBe(b);
    const [da, db] = [Buffer.from(a, 'base64'), Buffer.from(b, 'base64')];
    expect(da.subarray(0, SALT_BYTES).equals(db.subarray(0, SALT_BYTES))).toBe(false);
    expect(
      da
        .subarray(SALT_BYTES, SALT_BYTES + NONCE_BYTES)
        .equals(db.subarray(SALT_BYTES, SALT_BYTES + NONCE_BYTES)),
    ).toBe(false);
  });

  it('lays out salt ‖ nonce ‖ ciphertext ‖ tag in standard base64', async () => {
    for (const plain of [PLAIN, 'päss ✓', '']) {
      const stored = await encryptPassword(plain, SECRET);
      expect(stored).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      // Literal sizes, not the module's constants: the format is fixed by pgEdge.
      expect(Buffer.from(stored, 'base64')).toHaveLength(
        16 + 12 + Buffer.byteLength(plain, 'utf8') + 16,
      );
    }
  });

  it('decrypts a fixed vector made by an independent implementation', async () => {
    expect(await decryptPassword(VECTOR.stored, VECTOR.secret)).toBe(VECTOR.plaintext);
  });

  it('fails on a wrong secret without revealing the secret or the password', async () => {
    const stored = await encryptPassword(PLAIN, SECRET);
    const err = await rejection(decryptPassword(stored, 'another-secret-entirely'));
    expect(err).toBeInstanceOf(PasswordDecryptError);
    expect(err.message).toMatch(/server secret|corrupted/);
    for (const text of [err.message, String(err.stack), JSON.stringify(err)]) {
      expect(text).not.toContain(PLAIN);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('another-secret-entirely');
    }
    const vectorErr = await rejection(decryptPassword(VECTOR.stored, SECRET));
    expect(vectorErr.message).not.toContain(VECTOR.secret);
    expect(vectorErr.message).not.toContain(VECTOR.plaintext);
  });

  it('fails on a tampered salt, nonce, ciphertext or tag', async () => {
    const stored = await encryptPassword(PLAIN, SECRET);
    const bytes = Buffer.from(stored, 'base64');
    for (const offset of [0, SALT_BYTES, SALT_BYTES + NONCE_BYTES + 3, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[offset] = (tampered[offset] ?? 0) ^ 0x01;
      const err = await rejection(decryptPassword(tampered.toString('base64'), SECRET));
      expect(err).toBeInstanceOf(PasswordDecryptError);
      expect(err.message).not.toContain(PLAIN);
    }
    // Truncated: no room for salt, nonce and tag.
    const short = await rejection(
      decryptPassword(bytes.subarray(0, 40).toString('base64'), SECRET),
    );
    expect(short.message).toMatch(/too short/);
    const notBase64 = await rejection(decryptPassword('not base64 at all!', SECRET));
    expect(notBase64).toBeInstanceOf(PasswordDecryptError);
  });

  it('refuses an empty secret', async () => {
    await expect(encryptPassword(PLAIN, '')).rejects.toThrow(/secret is empty/);
    await expect(decryptPassword(VECTOR.stored, '')).rejects.toThrow(/secret is empty/);
  });
});

describe('readServerSecret', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pgql-secret-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('drops one trailing newline and registers the secret for redaction', async () => {
    const file = path.join(dir, 'secret');
    await writeFile(file, 'server-secret-from-file-91c2\n');
    const secret = await readServerSecret(file);
    expect(secret).toBe('server-secret-from-file-91c2');
    expect(redact('leaked server-secret-from-file-91c2 here')).toBe('leaked **** here');
    await writeFile(file, 'crlf-secret-value\r\n');
    expect(await readServerSecret(file)).toBe('crlf-secret-value');
  });

  it('refuses an empty file, naming it', async () => {
    const file = path.join(dir, 'empty');
    await writeFile(file, '\n');
    await expect(readServerSecret(file)).rejects.toThrow(`the server secret file ${file} is empty`);
  });

  it('names a missing file', async () => {
    const file = path.join(dir, 'missing');
    await expect(readServerSecret(file)).rejects.toThrow(`${file}: no such file`);
  });
});
