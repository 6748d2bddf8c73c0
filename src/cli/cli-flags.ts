import type { RawConfig } from '../core/config/config-schema.js';

/** Command-line flags as yargs parses them. */
export interface CliFlags {
  readonly config?: string;
  readonly mode?: string;
  readonly target?: readonly string[];
  readonly once?: boolean;
  readonly interval?: string;
  readonly output?: string;
  readonly outputFile?: string;
  readonly spoolDir?: string;
  readonly logLevel?: string;
  readonly logFormat?: string;
  readonly nriProtocol?: number;
  readonly daemon?: boolean;
}

/** The raw-config fragment flags contribute (the highest-precedence layer). */
export function flagsToRawConfig(flags: CliFlags): RawConfig {
  const raw: RawConfig = {};
  if (flags.mode !== undefined) raw.mode = flags.mode;
  if (flags.interval !== undefined) raw.interval = flags.interval;
  if (flags.target !== undefined && flags.target.length > 0) {
    raw.targets = flags.target.map((url) => ({ url }));
  }
  if (
    flags.output !== undefined ||
    flags.outputFile !== undefined ||
    flags.spoolDir !== undefined
  ) {
    raw.output = {
      ...(flags.output === undefined ? {} : { format: flags.output }),
      ...(flags.outputFile === undefined ? {} : { path: flags.outputFile }),
      ...(flags.spoolDir === undefined ? {} : { spoolDir: flags.spoolDir }),
    };
  }
  if (flags.nriProtocol !== undefined || flags.daemon !== undefined) {
    raw.nri = {
      ...(flags.nriProtocol === undefined ? {} : { protocol: flags.nriProtocol }),
      ...(flags.daemon === undefined ? {} : { daemon: flags.daemon }),
    };
  }
  if (flags.logLevel !== undefined || flags.logFormat !== undefined) {
    raw.log = {
      ...(flags.logLevel === undefined ? {} : { level: flags.logLevel }),
      ...(flags.logFormat === undefined ? {} : { format: flags.logFormat }),
    };
  }
  return raw;
}
