#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { redact, registerSecret } from '../core/redact.js';
import { LOG_FORMATS, LOG_LEVELS, MODES, OUTPUT_FORMATS } from '../core/config/modes.js';
import type { CliFlags } from './cli-flags.js';
import { agentErrorPrefix } from './agent-prefix.js';
import { EXIT_USAGE } from './exit-codes.js';
import { collectorsCommand } from './collectors-command.js';
import { connectionsCommandModule } from './connections-command.js';
import { encryptPasswordCommandModule } from './encrypt-password-command.js';
import { loadCommandModule } from './load-command.js';
import { gcCommand, migrateCommand } from './datastore-commands.js';
import { runCommand } from './run-command.js';
import { validateCommand } from './validate-command.js';
import { VERSION } from './version.js';

const argv = hideBin(process.argv);
// Passwords are read from stdin only; one typed on the command line anyway must not be echoed
// back by a usage error.
argv.forEach((arg, i) => {
  if (/^--?password$/.test(arg)) registerSecret(argv[i + 1]);
  else if (arg.startsWith('--password=')) registerSecret(arg.slice('--password='.length));
});

await yargs(argv)
  .scriptName('pgquerylens')
  .usage(
    '$0 [run] [options]\n\nCollects PostgreSQL statistics and query performance, exports them as OTLP, NRI or JSON.',
  )
  .option('config', {
    alias: 'c',
    type: 'string',
    describe: 'YAML configuration file (env PGQUERYLENS_CONFIG)',
  })
  .option('mode', {
    type: 'string',
    choices: MODES,
    describe: 'nri: under the New Relic agent; otel: OTLP push; hybrid: both',
  })
  .option('target', {
    alias: 't',
    type: 'string',
    array: true,
    describe: 'postgres:// URL of a server to monitor (repeatable)',
  })
  .option('once', {
    type: 'boolean',
    describe: 'Run every enabled collector once, export, and exit',
  })
  .option('interval', { type: 'string', describe: 'Base collection interval, e.g. 15s, 1m' })
  .option('nri-protocol', {
    type: 'number',
    choices: [3, 4],
    describe: 'NRI payloads: 4 (dimensional, default) or 3 (nri-postgresql compatible)',
  })
  .option('daemon', {
    type: 'boolean',
    describe: 'With --mode=nri: keep running, a payload per interval, instead of one run',
  })
  .option('output', {
    type: 'string',
    choices: OUTPUT_FORMATS,
    describe: 'Also write each batch as JSON lines, a short summary, or files (store-and-forward)',
  })
  .option('output-file', { type: 'string', describe: 'File for --output instead of stdout' })
  .option('spool-dir', {
    type: 'string',
    describe: 'With --output=file: directory of rotated .ndjson.gz batches for `pgquerylens load`',
  })
  .option('log-level', { type: 'string', choices: LOG_LEVELS })
  .option('log-format', {
    type: 'string',
    choices: LOG_FORMATS,
    describe: 'json (default) or text; logs go to stderr',
  })
  .command(['run', '$0'], 'Collect (the default command)', {}, async (args) => {
    process.exitCode = await runCommand(args as CliFlags, process.env);
  })
  .command(
    'validate',
    'Check the configuration and print it with secrets masked; exit 0 or 2',
    {},
    (args) => {
      process.exitCode = validateCommand(args as CliFlags, process.env);
    },
  )
  .command(
    'migrate',
    'Create or upgrade the history datastore schema (datastore.url), then exit',
    {},
    async (args) => {
      process.exitCode = await migrateCommand(args as CliFlags, process.env);
    },
  )
  .command(
    'gc',
    "Drop datastore partitions older than each probe's retention now (the daemon does it daily)",
    {},
    async (args) => {
      process.exitCode = await gcCommand(args as CliFlags, process.env);
    },
  )
  .command(
    'collectors',
    'List every probe with scope, interval, retention, minimum version and requirements',
    (y) =>
      y.option('format', {
        type: 'string',
        choices: ['text', 'json', 'markdown'] as const,
        default: 'text' as const,
      }),
    (args) => {
      process.exitCode = collectorsCommand(args.format);
    },
  )
  .command(connectionsCommandModule)
  .command(encryptPasswordCommandModule)
  .command(loadCommandModule)
  .example('$0', 'No configuration: run against an embedded PostgreSQL with a demo workload')
  .example(
    '$0 --target postgres://monitor@db1:5432/postgres --once --output=json',
    'One cycle as JSON lines',
  )
  .example('$0 validate --config config/pgquerylens.example.yaml', 'Check a configuration file')
  .strict()
  .version(VERSION)
  .alias('help', 'h')
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .fail((message, err) => {
    if (err !== undefined && err !== null) {
      process.stderr.write(
        `${agentErrorPrefix(argv, process.env)}pgquerylens: ${redact(err.message)}\n`,
      );
      process.exit(1);
    }
    process.stderr.write(
      `${agentErrorPrefix(argv, process.env)}pgquerylens: ${redact(message)}\nRun pgquerylens --help for usage.\n`,
    );
    process.exit(EXIT_USAGE);
  })
  .parseAsync();

// Everything is closed by now; should a stray socket or timer still hold the event loop, it
// must not keep a stopped collector alive. unref: this timer alone never delays the exit.
setTimeout(() => process.exit(), 3_000).unref();
