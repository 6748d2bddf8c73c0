import { collect, startCli, type CliResult } from '../../helpers/cli.js';

/** Runs the CLI with `stdin` written to it and closed. */
export async function runCliWithStdin(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  stdin: string,
): Promise<CliResult> {
  const child = startCli(args, env);
  const done = collect(child, 60_000);
  child.stdin.end(stdin);
  return done;
}
