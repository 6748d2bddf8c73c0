import { describe, expect, it } from 'vitest';
import { redact, redactValue, registerSecret } from '../../src/core/redact.js';

describe('redaction', () => {
  it('masks passwords in URL DSNs of any scheme', () => {
    expect(redact('connect postgres://mon:s3cr%40t@db:5432/app failed')).toBe(
      'connect postgres://mon:****@db:5432/app failed',
    );
    expect(redact('postgresql://:only-pass@db/app')).toBe('postgresql://:****@db/app');
    expect(redact('https://user:tok@example.invalid/x')).toBe(
      'https://user:****@example.invalid/x',
    );
  });

  it('leaves DSNs without a password alone', () => {
    expect(redact('postgres://mon@db:5432/app')).toBe('postgres://mon@db:5432/app');
  });

  it('masks key/value passwords', () => {
    expect(redact('host=db password=abc123 user=x')).toBe('host=db password=**** user=x');
    expect(redact("password = 'quoted secret' dbname=x")).toBe('password = **** dbname=x');
    expect(redact('postgres://h/db?password=abc&sslmode=require')).toBe(
      'postgres://h/db?password=****&sslmode=require',
    );
  });

  it('masks registered secrets anywhere, including URL-encoded forms', () => {
    registerSecret('p@ss w0rd!');
    expect(redact('auth failed for p@ss w0rd!')).toBe('auth failed for ****');
    expect(redact('url has p%40ss%20w0rd!')).toBe('url has ****');
  });

  it('masks a registered secret inside a JSON-encoded log line', () => {
    const secret = 'quote"back\\slash';
    registerSecret(secret);
    expect(redact(JSON.stringify({ err: `bad ${secret}` }))).toBe('{"err":"bad ****"}');
  });

  // Found by the config fuzzer: encodeURIComponent throws on a lone surrogate, which a YAML
  // "\ud800" escape or an environment variable can carry.
  it('registers a value with a lone surrogate without throwing, and masks it', () => {
    const value = 'pw\ud800,postgres://';
    expect(() => registerSecret(value)).not.toThrow();
    expect(redact(`x ${value} y`)).toBe('x **** y');
  });

  it('does not register trivially short values', () => {
    registerSecret('ab');
    expect(redact('ab cab')).toBe('ab cab');
  });

  it('masks password-like keys in structured values', () => {
    expect(
      redactValue({
        user: 'u',
        password: 'x',
        nested: [{ apiToken: 'y', url: 'postgres://a:b@h/d' }],
      }),
    ).toEqual({
      user: 'u',
      password: '****',
      nested: [{ apiToken: '****', url: 'postgres://a:****@h/d' }],
    });
  });
});
