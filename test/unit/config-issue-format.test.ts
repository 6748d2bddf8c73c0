import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssue } from '../../src/core/errors.js';

describe('formatConfigIssue', () => {
  it('prints the path, then the message', () => {
    expect(formatConfigIssue({ path: 'targets[0].port', message: 'expected a number' })).toBe(
      'targets[0].port: expected a number',
    );
    expect(formatConfigIssue({ path: '', message: 'cannot read config file x.yaml' })).toBe(
      'cannot read config file x.yaml',
    );
  });

  // Found by the config fuzzer: PGQUERYLENS_DATASTORE_URL_FILE="\n" printed its issue on two
  // lines, so a reader counting `config error:` lines saw a second, garbled one.
  it('keeps every issue on one line, escaping line breaks and other control characters', () => {
    const line = formatConfigIssue({
      path: 'PGQUERYLENS_DATASTORE_URL_FILE',
      message: 'cannot read \n\r\t\u0007\u2028x: no such file',
    });
    expect(line).toBe(
      'PGQUERYLENS_DATASTORE_URL_FILE: cannot read \\n\\r\\t\\u0007\\u2028x: no such file',
    );
    expect(line.split(/[\n\r\u2028\u2029]/)).toHaveLength(1);
    const error = new ConfigError([
      { path: 'a', message: 'one\ntwo' },
      { path: 'b', message: 'three' },
    ]);
    expect(error.message.split('\n')).toEqual(['a: one\\ntwo', 'b: three']);
  });
});
