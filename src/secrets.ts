// Configured secret values, collected once, scrubbed from log lines and from errors that leave a connector.

// Values of these keys are secrets wherever they sit in a connector's options (password, clientSecret, apiToken, …).
const SECRET_KEY = /secret|password|passwd|token|apikey|api_key|privatekey|credential/i;
const MIN_LENGTH = 6; // shorter values would scrub ordinary words out of every line

/** Process-wide: every logger made by createLogger scrubs these values, whichever module registered them. */
const known = new Set<string>();

/** Secret-looking string values anywhere under `value` (keys matching SECRET_KEY, and arrays/objects below them). */
export function collectSecrets(value: unknown, underSecretKey = false): string[] {
  if (typeof value === 'string') {
    if (underSecretKey) return value.length >= MIN_LENGTH ? [value] : [];
    return urlPassword(value);
  }
  if (Array.isArray(value)) return value.flatMap((v) => collectSecrets(v, underSecretKey));
  if (value && typeof value === 'object') {
    // Each object decides by its own keys: in auth.tokens[] only `token` is secret, not `name` or `role`.
    return Object.entries(value).flatMap(([k, v]) => collectSecrets(v, SECRET_KEY.test(k)));
  }
  return [];
}

/** The password of a URL such as redis://:pw@host (a config value that is no secret key of its own). */
function urlPassword(value: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) return [];
  try {
    const pw = decodeURIComponent(new URL(value).password);
    return pw.length >= MIN_LENGTH ? [pw] : [];
  } catch {
    return [];
  }
}

export function registerSecrets(values: Iterable<string>): void {
  for (const v of values) if (v.length >= MIN_LENGTH) known.add(v);
}

/** Replaces every registered secret (and its URL-encoded form, as in a form body) with [redacted]. */
export function scrubSecrets(text: string, extra: readonly string[] = []): string {
  let out = text;
  for (const s of [...known, ...extra]) {
    for (const form of new Set([s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)])) {
      if (out.includes(form)) out = out.split(form).join('[redacted]');
    }
  }
  return out;
}

/** Scrubs an error's message (and its cause's) in place, so whatever records or prints it later is clean. */
export function scrubError(err: unknown, extra: readonly string[] = []): unknown {
  if (err instanceof Error) {
    err.message = scrubSecrets(err.message, extra);
    if (err.stack) err.stack = scrubSecrets(err.stack, extra);
    if (err.cause instanceof Error) scrubError(err.cause, extra);
  }
  return err;
}
