/**
 * The spellings Go's `strconv.ParseBool` accepts: the agent and nri-postgresql's users write
 * booleans this way, so exactly these parse and anything else is reported (where the SDK would
 * silently ignore the value).
 */
const GO_BOOLS: Readonly<Record<string, boolean>> = {
  '1': true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/** Parses a boolean as Go's ParseBool does; undefined for anything it rejects. */
export function parseGoBool(text: string): boolean | undefined {
  return Object.hasOwn(GO_BOOLS, text) ? GO_BOOLS[text] : undefined;
}
