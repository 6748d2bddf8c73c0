import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { probeTableMarkdown } from '../../src/cli/collectors-command.js';

/** Table rows as trimmed cells, so Prettier's column padding does not matter. */
function cells(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

describe('README', () => {
  it('lists every probe exactly as the catalogue defines it (npm run docs:probes updates it)', () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.slice(
      readme.indexOf('<!-- probes:start -->'),
      readme.indexOf('<!-- probes:end -->'),
    );
    expect(cells(table)).toEqual(cells(probeTableMarkdown()));
  });
});
