import { createRequire } from 'node:module';

// Works from src/cli (tests) and dist/cli (installed): package.json is two levels up in both.
const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export const VERSION: string = pkg.version;
