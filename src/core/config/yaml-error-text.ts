/**
 * The first line of a YAML parse error, without its position (reported separately) and without
 * the source text it quotes: a broken file may hold a password, which the loader has not yet
 * been able to register for masking.
 */
export function yamlErrorText(message: string): string {
  const first = (message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return first.replace(/:\s.*$/, '').replace(/"(?:[^"\\]|\\.)*"/g, '…');
}
