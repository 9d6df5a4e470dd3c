// Webhook authentication per source: HMAC-SHA256 signature (with a replay window) and/or a bearer token.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SourceName } from '../contracts/alert.js';
import type { Config } from '../config.js';
import { SheriffError } from '../errors.js';

export const SIGNATURE_HEADER = 'x-sheriff-signature';
/** Signatures older or newer than this (seconds) are stale; the replay memory lasts as long. */
export const SIGNATURE_WINDOW_S = 300;

/** `t=<unix>,v1=<hex>` for a body: what a detector (or a test, or the bench) sends. */
export function signBody(secret: string, body: string | Buffer, t = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
  return `t=${t},v1=${mac}`;
}

/** Sources that accept unsigned, tokenless posts, so startup can warn about each. */
export function unauthenticatedSources(config: Pick<Config, 'sources'>): SourceName[] {
  return Object.entries(config.sources)
    .filter(([, auth]) => auth?.allowUnauthenticated === true)
    .map(([name]) => name as SourceName);
}

export type AuthResult = { ok: true; replayKey?: string } | { ok: false; reason: string };

const digest = (s: string | Buffer) => createHash('sha256').update(s).digest();
const safeEqualText = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

function parseSignature(header: string): { t: number; v1: string[] } | undefined {
  if (header.length > 1024) return undefined;
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const m = /^\s*(t|v1)=([0-9a-fA-F]+)\s*$/.exec(part);
    if (!m) continue;
    if (m[1] === 't' && /^\d{1,12}$/.test(m[2] as string)) t = Number(m[2]);
    else if (m[1] === 'v1' && (m[2] as string).length === 64) v1.push((m[2] as string).toLowerCase());
  }
  return t === undefined || v1.length === 0 ? undefined : { t, v1 };
}

export function createSourceAuth(config: Pick<Config, 'sources'>) {
  /** Known before the body is read: a source nobody configured is refused without parsing anything. */
  function configured(source: SourceName): boolean {
    const a = config.sources[source];
    return Boolean(a && (a.secret || a.token || a.allowUnauthenticated));
  }

  /**
   * Either credential that is configured may authenticate the post. A signature that is present but wrong
   * is refused even when a token would also be accepted, so a broken signer is noticed.
   */
  function verify(source: SourceName, headers: Record<string, string | string[] | undefined>, raw: Buffer, nowS: number): AuthResult {
    const a = config.sources[source];
    if (!a) return { ok: false, reason: `source ${source} is not configured (set sources.${source}.secret or .token)` };
    const sigHeader = headers[SIGNATURE_HEADER];
    const authz = headers.authorization;
    if (a.secret && typeof sigHeader === 'string') {
      const sig = parseSignature(sigHeader);
      if (!sig) return { ok: false, reason: 'malformed X-Sheriff-Signature (expected t=<unix>,v1=<hex>)' };
      if (Math.abs(nowS - sig.t) > SIGNATURE_WINDOW_S) return { ok: false, reason: 'the signature timestamp is outside the 5-minute window' };
      const expected = createHmac('sha256', a.secret).update(`${sig.t}.`).update(raw).digest();
      const match = sig.v1.find((v) => timingSafeEqual(Buffer.from(v, 'hex'), expected));
      if (!match) return { ok: false, reason: 'the signature does not match the body' };
      return { ok: true, replayKey: `${sig.t}.${match}` };
    }
    if (a.token && typeof authz === 'string') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
      if (m && safeEqualText(m[1] as string, a.token)) return { ok: true };
      return { ok: false, reason: 'the bearer token is not valid for this source' };
    }
    if (a.allowUnauthenticated && !a.secret && !a.token) return { ok: true };
    if (a.allowUnauthenticated && sigHeader === undefined && authz === undefined) return { ok: true };
    return { ok: false, reason: a.secret ? 'send X-Sheriff-Signature: t=<unix>,v1=<hmac-sha256 hex>' : 'send Authorization: Bearer <source token>' };
  }

  return { configured, verify };
}
export type SourceAuth = ReturnType<typeof createSourceAuth>;

export const unauthorized = (reason: string) => new SheriffError('UNAUTHORIZED', reason);
