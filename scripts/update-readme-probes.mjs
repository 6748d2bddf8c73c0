// Regenerates the probe table in README.md from the catalogue (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { probeTableMarkdown } from '../dist/cli/collectors-command.js';

const START = '<!-- probes:start -->';
const END = '<!-- probes:end -->';
const readme = readFileSync('README.md', 'utf8');
const from = readme.indexOf(START);
const to = readme.indexOf(END);
if (from < 0 || to < from) throw new Error(`README.md lacks the ${START} … ${END} markers`);
writeFileSync(
  'README.md',
  `${readme.slice(0, from + START.length)}\n\n${probeTableMarkdown()}\n\n${readme.slice(to)}`,
);
execFileSync('npx', ['prettier', '--write', 'README.md'], { stdio: 'inherit' });
