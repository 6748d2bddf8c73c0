import type { Readable } from 'node:stream';
import type { Argv, CommandModule } from 'yargs';
import { encryptPassword, readServerSecret } from '../adapters/datastore/password-crypto.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../core/config/modes.js';
import type { ResolvedConfig } from '../core/config/resolved-config.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { redact, registerSecret } from '../core/redact.js';
import type { CliFlags } from './cli-flags.js';
import { EXIT_OK, EXIT_RUNTIME_FAILURE, EXIT_USAGE } from './exit-codes.js';
import { loadCliConfig } from './load-cli-config.js';
import { createLogger } from './logger.js';

/** Env variable naming the server secret file when neither flag nor config does. */
export const SECRET_FILE_ENV = 'PGQUERYLENS_SECRET_FILE';

/** stdin as these commands use it: a stream, a TTY (then with raw mode) or not. */
export type CommandInput = Readable & {
  readonly isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
};

/** Where an admin command reads and writes; the process's own streams unless a test swaps them. */
export interface CommandIo {
  readonly stdin: CommandInput;
  /** The command's result, for the user or a script. */
  readonly stdout: (text: string) => void;
  /** Prompts and one-line problems; logs go through the logger. */
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export function processIo(): CommandIo {
  return {
    stdin: process.stdin,
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
    env: process.env,
  };
}

/** Bad input: the command prints the message and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Prints a usage problem the way main.ts does and returns the exit code 2. */
export function reportUsage(io: CommandIo, message: string): number {
  io.stderr(`pgquerylens: ${redact(message)}\n`);
  return EXIT_USAGE;
}

/** Flags shared by the commands that need the server secret. */
export interface SecretFileFlags extends CliFlags {
  readonly secretFile?: string;
}

/**
 * The server secret file: `--secret-file`, else PGQUERYLENS_SECRET_FILE, else the config's
 * `datastore.secretFile` (flags over environment over file, as for every other setting).
 */
export function secretFileOf(
  flags: SecretFileFlags,
  env: NodeJS.ProcessEnv,
  config?: ResolvedConfig,
): string | undefined {
  if (flags.secretFile !== undefined && flags.secretFile !== '') return flags.secretFile;
  const fromEnv = env[SECRET_FILE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return config?.datastore?.secretFile;
}

export const NO_SECRET_FILE =
  `no server secret file: pass --secret-file, set datastore.secretFile in the configuration ` +
  `or ${SECRET_FILE_ENV}`;

/** Reads the secret named by secretFileOf; a UsageError when there is none or it is unusable. */
export async function loadSecret(file: string | undefined): Promise<string> {
  if (file === undefined) throw new UsageError(NO_SECRET_FILE);
  try {
    return await readServerSecret(file);
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
}

// A password, not a file: anything this long was piped in by mistake.
const MAX_PASSWORD_BYTES = 64 * 1024;

/**
 * Reads one password from stdin: on a terminal after a prompt on stderr, without echo; otherwise
 * all of stdin, one trailing newline dropped. Never from argv (it would show in `ps` and shell
 * history). The value is registered for redaction before it is returned.
 */
export async function readPasswordFromStdin(io: CommandIo, prompt = 'Password: '): Promise<string> {
  const password =
    io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function'
      ? await readHiddenLine(io, prompt)
      : await readPiped(io.stdin);
  if (password === '') throw new UsageError('no password on stdin (got an empty line)');
  registerSecret(password);
  return password;
}

async function readPiped(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_PASSWORD_BYTES) {
      throw new UsageError(
        `stdin holds more than ${MAX_PASSWORD_BYTES} bytes; expected a password`,
      );
    }
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (/[\r\n]/.test(text)) {
    throw new UsageError('stdin holds more than one line; expected one password');
  }
  return text;
}

/** A line typed on the terminal, not echoed. Ctrl-C cancels; backspace and Ctrl-U edit. */
function readHiddenLine(io: CommandIo, prompt: string): Promise<string> {
  const stdin = io.stdin;
  const setRawMode = stdin.setRawMode?.bind(stdin);
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const finish = (error?: Error): void => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      setRawMode?.(false);
      stdin.pause();
      io.stderr('\n');
      if (error === undefined) resolve(chars.join(''));
      else reject(error);
    };
    const onEnd = (): void => finish();
    const onData = (chunk: Buffer | string): void => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') chars.pop();
        else if (ch === '\u0015') chars = [];
        else if (ch >= ' ') chars.push(ch);
      }
    };
    io.stderr(prompt);
    setRawMode?.(true);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
}

/**
 * Logger for an admin command, from the global --log-level/--log-format flags or their
 * PGQUERYLENS_* variables; text by default, since a person is usually reading.
 */
export function adminLogger(flags: CliFlags, env: NodeJS.ProcessEnv): Logger {
  const level = flags.logLevel ?? env.PGQUERYLENS_LOG_LEVEL;
  const format = flags.logFormat ?? env.PGQUERYLENS_LOG_FORMAT;
  return createLogger({
    level: LOG_LEVELS.includes(level as LogLevel) ? (level as LogLevel) : 'info',
    format: LOG_FORMATS.includes(format as LogFormat) ? (format as LogFormat) : 'text',
  });
}

export type EncryptPasswordArgs = SecretFileFlags;

/**
 * `pgquerylens encrypt-password [--secret-file F]`: reads a password from stdin and prints its
 * encrypted form (base64, the pgEdge format) for `connections.password_encrypted`.
 * 0 when printed, 2 on bad input (no secret file, empty password), 1 when encryption fails.
 */
export async function encryptPasswordCommand(
  args: EncryptPasswordArgs,
  logger: Logger,
  io: CommandIo = processIo(),
): Promise<number> {
  let secret: string;
  let password: string;
  try {
    // The configuration is read only when neither the flag nor the environment names the file.
    const needsConfig = secretFileOf(args, io.env) === undefined;
    const config = needsConfig ? loadCliConfig(args, io.env) : undefined;
    if (needsConfig && config === undefined) return EXIT_USAGE;
    secret = await loadSecret(secretFileOf(args, io.env, config));
    password = await readPasswordFromStdin(io);
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err.message);
    throw err;
  }
  try {
    io.stdout(`${await encryptPassword(password, secret)}\n`);
    return EXIT_OK;
  } catch (err) {
    logger.error('could not encrypt the password', { err: errorMessage(err) });
    return EXIT_RUNTIME_FAILURE;
  }
}

export interface CommandModuleOptions {
  /** Default: the process's streams and environment. */
  readonly io?: CommandIo;
  /** Default: adminLogger from the flags. */
  readonly logger?: Logger;
  /** Default: sets process.exitCode, as main.ts's commands do. */
  readonly exit?: (code: number) => void;
}

export const SECRET_FILE_OPTION = {
  type: 'string',
  describe: `File holding the server secret (else datastore.secretFile, env ${SECRET_FILE_ENV})`,
} as const;

/** yargs module for `encrypt-password`; register with `.command(encryptPasswordCommandModule)`. */
export function makeEncryptPasswordCommandModule(
  options: CommandModuleOptions = {},
): CommandModule<object, EncryptPasswordArgs> {
  return {
    command: 'encrypt-password',
    describe:
      'Read a password from stdin and print it encrypted with the server secret (base64); ' +
      'exit 0, or 2 on bad input',
    builder: (y: Argv<object>) =>
      y
        .option('secret-file', SECRET_FILE_OPTION)
        .example(
          'printf %s "$PW" | $0 encrypt-password --secret-file /etc/pgquerylens/secret',
          'Encrypt without the password appearing in argv',
        ),
    handler: async (args) => {
      const io = options.io ?? processIo();
      const flags: EncryptPasswordArgs = args;
      const code = await encryptPasswordCommand(
        flags,
        options.logger ?? adminLogger(flags, io.env),
        io,
      );
      (options.exit ?? setExitCode)(code);
    },
  };
}

export const encryptPasswordCommandModule = makeEncryptPasswordCommandModule();

function setExitCode(code: number): void {
  process.exitCode = code;
}
