/**
 * Secrets must never reach logs or output. Two layers: passwords inside connection strings are
 * masked by shape, and every secret value the config loaded is masked wherever it appears.
 */
const MASK = '****';

// user:password@ in any URL-like DSN; the user part may be empty.
const DSN_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@\s]*)(@)/gi;
// password=... in a libpq key/value DSN or query string.
const KV_PASSWORD = /(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi;

const knownSecrets = new Set<string>();

/** Registers a value to mask from now on (passwords read from config, env or files). */
export function registerSecret(value: string | undefined): void {
  // Very short values would mask innocent text and protect nothing.
  if (value !== undefined && value.length >= 3) {
    knownSecrets.add(value);
    // Also as it appears inside a URL and inside a JSON-encoded log line.
    for (const form of [uriForm(value), JSON.stringify(value).slice(1, -1)]) {
      if (form !== undefined && form !== value) knownSecrets.add(form);
    }
  }
}

// A lone UTF-16 surrogate has no URI encoding (encodeURIComponent throws), so such a value
// cannot appear percent-encoded either: there is no second form to mask.
function uriForm(value: string): string | undefined {
  try {
    return encodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** Masks DSN passwords and registered secrets in `text`. */
export function redact(text: string): string {
  let out = text.replace(DSN_PASSWORD, `$1${MASK}$3`).replace(KV_PASSWORD, `$1${MASK}`);
  for (const secret of knownSecrets) {
    if (out.includes(secret)) {
      out = out.split(secret).join(MASK);
    }
  }
  return out;
}

/** Deep copy of a value with every string redacted and `password`-like keys masked. */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') {
    return redact(value);
  }
  if (Array.isArray(value)) {
    return value.map(redactValue);
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] =
        /password|secret|token/i.test(key) && typeof inner === 'string' && inner !== ''
          ? MASK
          : redactValue(inner);
    }
    return out;
  }
  return value;
}
