/**
 * `[ERR] ` when the process runs under the New Relic agent (`nri` or `hybrid` mode, by flag or
 * environment), else nothing. The agent files stderr lines tagged `[ERR]` under
 * integration-errors; untagged ones only reach its debug log, so a bad configuration would
 * otherwise go unnoticed.
 */
export function agentErrorPrefix(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  let mode = env.PGQUERYLENS_MODE;
  argv.forEach((arg, i) => {
    if (arg === '--mode') mode = argv[i + 1];
    else if (arg.startsWith('--mode=')) mode = arg.slice('--mode='.length);
  });
  return mode === 'nri' || mode === 'hybrid' ? '[ERR] ' : '';
}
