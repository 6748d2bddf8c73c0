import { createCipheriv, createDecipheriv, pbkdf2, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { fsReason } from '../../core/config/env-overrides.js';
import { registerSecret } from '../../core/redact.js';

/**
 * Passwords of datastore connections, encrypted the way the pgEdge AI DBA Workbench does
 * (pkg/crypto/password.go), so a connection stored by either tool is usable by the other:
 *
 *   key    = PBKDF2-HMAC-SHA256(server secret as UTF-8, salt, 100 000 iterations, 32 bytes)
 *   stored = base64(salt (16) ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16))
 *
 * with a random salt and nonce per value and no associated data. Standard, padded base64.
 */
export const PBKDF2_ITERATIONS = 100_000;
export const SALT_BYTES = 16;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
const KEY_BYTES = 32;
const CIPHER = 'aes-256-gcm';

const pbkdf2Async = promisify(pbkdf2);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A stored password that cannot be decrypted; the message never holds a secret. */
export class PasswordDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PasswordDecryptError';
  }
}

function deriveKey(secret: string, salt: Buffer): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(secret, 'utf8'), salt, PBKDF2_ITERATIONS, KEY_BYTES, 'sha256');
}

/** Encrypts `plain` with the server secret; a fresh salt and nonce each time. */
export async function encryptPassword(plain: string, secret: string): Promise<string> {
  if (secret === '') {
    throw new Error('the server secret is empty; cannot encrypt a password');
  }
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const key = await deriveKey(secret, salt);
  const cipher = createCipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES });
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([salt, nonce, ciphertext, cipher.getAuthTag()]).toString('base64');
}

/**
 * Decrypts a value written by encryptPassword (or by the pgEdge workbench). Throws
 * PasswordDecryptError when the secret is wrong or the value was altered or is not one.
 */
export async function decryptPassword(stored: string, secret: string): Promise<string> {
  if (secret === '') {
    throw new PasswordDecryptError('the server secret is empty; cannot decrypt a password');
  }
  const text = stored.trim();
  if (!BASE64.test(text)) {
    throw new PasswordDecryptError('the stored password is not an encrypted value (not base64)');
  }
  const data = Buffer.from(text, 'base64');
  if (data.length < SALT_BYTES + NONCE_BYTES + TAG_BYTES) {
    throw new PasswordDecryptError(
      'the stored password is not an encrypted value (too short for salt, nonce and tag)',
    );
  }
  const salt = data.subarray(0, SALT_BYTES);
  const nonce = data.subarray(SALT_BYTES, SALT_BYTES + NONCE_BYTES);
  const ciphertext = data.subarray(SALT_BYTES + NONCE_BYTES, data.length - TAG_BYTES);
  const tag = data.subarray(data.length - TAG_BYTES);
  const key = await deriveKey(secret, salt);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new PasswordDecryptError(
      'cannot decrypt the stored password: the server secret is not the one it was encrypted ' +
        'with, or the value is corrupted',
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    throw new PasswordDecryptError('the decrypted password is not valid UTF-8');
  }
}

/**
 * Reads the server secret from `file` (one trailing newline dropped), refuses an empty one and
 * registers it for redaction, so it can never reach a log line.
 */
export async function readServerSecret(file: string): Promise<string> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the server secret file ${file}: ${fsReason(err)}`, {
      cause: err,
    });
  }
  const secret = content.replace(/\r?\n$/, '');
  if (secret === '') {
    throw new Error(`the server secret file ${file} is empty`);
  }
  registerSecret(secret);
  return secret;
}
