import { describe, expect, it } from 'vitest';
import { activityText } from '../../src/collectors/query-text/activity-text.js';
import { REDACTED_TEXT } from '../../src/collectors/probes/pg-stat-statements.js';

const OBFUSCATED = { mode: 'obfuscated', maxLength: 4096 } as const;
const RAW = { mode: 'raw', maxLength: 4096 } as const;

describe('activityText', () => {
  it('gives no text for null, undefined or empty input', () => {
    for (const raw of [null, undefined, '']) {
      expect(activityText(raw, OBFUSCATED)).toEqual({ truncated: false });
      expect(activityText(raw, RAW)).toEqual({ truncated: false });
    }
  });

  it('obfuscates by default mode, keeping parameters', () => {
    expect(
      activityText("SELECT * FROM users WHERE email = 'alice@example.com' AND id = $1", OBFUSCATED),
    ).toEqual({ text: 'SELECT * FROM users WHERE email = ? AND id = $1', truncated: false });
  });

  it('gives no text at all in none mode', () => {
    expect(activityText("SELECT 'secret'", { mode: 'none', maxLength: 100 })).toEqual({
      truncated: false,
    });
  });

  it('passes raw text through in raw mode', () => {
    expect(activityText("SELECT 'visible' /* c */", RAW)).toEqual({
      text: "SELECT 'visible' /* c */",
      truncated: false,
    });
  });

  it('withholds texts that may contain a password, even in raw mode', () => {
    for (const raw of [
      "ALTER ROLE x PASSWORD 'hunter2'",
      "CREATE USER x WITH ENCRYPTED password 'hunter2'",
      "SELECT * FROM t WHERE passwd = 'hunter2'",
    ]) {
      expect(activityText(raw, RAW)).toEqual({ text: REDACTED_TEXT, truncated: false });
    }
    expect(REDACTED_TEXT).toBe('<redacted: may contain a password>');
  });

  it('never lets a password literal through in obfuscated mode', () => {
    const result = activityText("ALTER ROLE x PASSWORD 'hunter2'", OBFUSCATED);
    expect(result.text).toBe('ALTER ROLE x PASSWORD ?');
    expect(activityText("ALTER ROLE x PASSWORD 'hunt", OBFUSCATED).text).not.toContain('hunt');
  });

  it('gives no text when obfuscation leaves nothing', () => {
    expect(activityText('-- just a comment', OBFUSCATED)).toEqual({ truncated: false });
  });

  it('cuts to maxLength and says so', () => {
    expect(activityText('SELECT abcdefghij FROM t', { mode: 'raw', maxLength: 10 })).toEqual({
      text: 'SELECT abc',
      truncated: true,
    });
    expect(activityText('SELECT a FROM t', { mode: 'raw', maxLength: 15 })).toEqual({
      text: 'SELECT a FROM t',
      truncated: false,
    });
    // The limit applies to the obfuscated text, which is shorter than the raw one.
    expect(
      activityText(`SELECT '${'x'.repeat(100)}'`, { mode: 'obfuscated', maxLength: 10 }),
    ).toEqual({ text: 'SELECT ?', truncated: false });
  });

  it('never cuts a surrogate pair in half', () => {
    const result = activityText('SELECT 🎉🎉', { mode: 'raw', maxLength: 9 });
    expect(result).toEqual({ text: 'SELECT 🎉', truncated: true });
    expect(Buffer.from(result.text!, 'utf8').toString('utf8')).toBe(result.text);
  });

  it('detects texts the server cut at track_activity_query_size', () => {
    const size = 1024;
    const full = `SELECT ${'a'.repeat(size - 1 - 7)}`; // what the server keeps: size − 1 bytes
    expect(full.length).toBe(size - 1);
    expect(activityText(full, { ...RAW, trackActivityQuerySize: size }).truncated).toBe(true);
    const cutEarlier = full.slice(0, size - 7);
    expect(activityText(cutEarlier, { ...RAW, trackActivityQuerySize: size }).truncated).toBe(true);
    const short = full.slice(0, size - 8);
    expect(activityText(short, { ...RAW, trackActivityQuerySize: size }).truncated).toBe(false);
    // Without the setting nothing can be said.
    expect(activityText(full, RAW).truncated).toBe(false);
  });

  it('counts UTF-8 bytes, not characters, against track_activity_query_size', () => {
    // 340 three-byte characters are 1020 bytes: cut by a 1024-byte limit at a character boundary.
    const text = `SELECT '${'€'.repeat(340)}`;
    expect(text.length).toBeLessThan(400);
    const result = activityText(text, { ...OBFUSCATED, trackActivityQuerySize: 1024 });
    expect(result).toEqual({ text: 'SELECT ?', truncated: true });
    expect(
      activityText(`SELECT '${'€'.repeat(100)}'`, { ...OBFUSCATED, trackActivityQuerySize: 1024 })
        .truncated,
    ).toBe(false);
  });

  it('reports server truncation even when no text is given out', () => {
    expect(
      activityText('x'.repeat(1023), {
        mode: 'none',
        maxLength: 100,
        trackActivityQuerySize: 1024,
      }),
    ).toEqual({ truncated: true });
  });

  it('hides literals of a truncated 1 MB text', () => {
    const raw =
      `INSERT INTO t VALUES ${Array.from({ length: 100_000 }, (_, i) => `('user${i}')`).join(',')}`.slice(
        0,
        1_048_575,
      );
    const result = activityText(raw, {
      mode: 'obfuscated',
      maxLength: 4096,
      trackActivityQuerySize: 1_048_576,
    });
    expect(result.truncated).toBe(true);
    expect(result.text).toBe('INSERT INTO t VALUES (?)');
  });
});
