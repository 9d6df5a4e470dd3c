// Shared pieces of the per-detector normalisers: results, ids, text checks, time and address helpers.
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { NormalisedAlert, type SourceName } from '../contracts/alert.js';
import { compileRanges, inRanges, parseHostIp } from '../contracts/net.js';

/** What a normaliser needs besides the payload; built once per server, not per request. */
export interface NormaliseContext {
  receivedAt: string;
  internal: InternalMatcher;
  /** Alertmanager: label names that may carry the device address, first usable wins. */
  deviceLabels: readonly string[];
}

export type Outcome =
  | { ok: true; alert: NormalisedAlert }
  | { ok: false; reason: string; issues?: z.core.$ZodIssue[] };

/** One payload item may hold several alerts (an Alertmanager notification), hence a list. */
export type Normaliser = (item: unknown, ctx: NormaliseContext) => Outcome[];

export const refuse = (reason: string, issues?: z.core.$ZodIssue[]): Outcome => ({ ok: false, reason, ...(issues ? { issues } : {}) });

/** Stable id: re-deliveries of one detection hash to the same id, whatever else changed. */
export function alertId(source: SourceName, stableKey: string): string {
  return `${source}-${createHash('sha256').update(stableKey).digest('hex').slice(0, 24)}`;
}

/** Content hash for detectors without an id of their own; key order does not matter. */
export function contentKey(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}

// C0/C1 controls, bidi overrides/isolates, zero-width and BOM: they spoof or break logs and consoles.
const unsafeText = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;
// Lone surrogates cannot be encoded honestly anywhere downstream.
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The alert name is matched by playbooks and shown to operators: printable text only, or refused. */
export function checkName(name: string | undefined): { name: string } | { error: string } {
  if (name === undefined || name.trim() === '') return { error: 'the alert has no name (model, rule or signature)' };
  if (name.length > 512) return { error: `the alert name is ${name.length} characters long (at most 512)` };
  if (unsafeText.test(name) || loneSurrogate.test(name)) return { error: 'the alert name contains control or invisible characters' };
  return { name };
}

const hostnameRe = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/;
/** Hostnames are optional context: anything that is not a plain DNS-ish name is dropped (it stays in raw). */
export function cleanHostname(value: unknown): string | undefined {
  return typeof value === 'string' && hostnameRe.test(value) ? value : undefined;
}

const macRe = /^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/;
export function cleanMac(value: unknown): string | undefined {
  return typeof value === 'string' && macRe.test(value) ? value.toLowerCase().replace(/-/g, ':') : undefined;
}

// A plain tag, or `label=value` (Alertmanager labels); nothing else may carry `=`.
const tagRe = /^(?:[\p{L}\p{N}_.:/@+-]{1,128}|[A-Za-z_][A-Za-z0-9_]{0,63}=[\p{L}\p{N}_.:/@+-]{1,64})$/u;
export function cleanTags(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((t): t is string => typeof t === 'string' && tagRe.test(t)).slice(0, 64);
}

export function cleanPort(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

export const clamp01 = (n: number) => (Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0);

/** Detector time (epoch s/ms or a date string) → ISO; unusable values fall back to the receive time. */
export function toIso(value: unknown, fallback: string, unit: 's' | 'ms' = 'ms'): string {
  let ms: number;
  if (typeof value === 'number') ms = unit === 's' ? value * 1000 : value;
  else if (typeof value === 'string' && value.length <= 64) ms = Date.parse(value);
  else return fallback;
  if (!Number.isFinite(ms) || ms < 0 || ms > 8.64e15) return fallback;
  return new Date(ms).toISOString();
}

/** Internal-address test, compiled once from config.ingest.internal. */
export interface InternalMatcher {
  contains(ip: string): boolean;
}

export function compileInternal(cidrs: readonly string[]): InternalMatcher {
  const ranges = compileRanges(cidrs);
  return { contains: (ip: string) => inRanges(ip, ranges) };
}

/** A device address: parsed, canonical, one host; the reason otherwise. */
export function deviceIp(value: unknown, field: string): { ip: string } | { error: string } {
  if (typeof value !== 'string') return { error: `${field} is missing` };
  const r = parseHostIp(value.slice(0, 100));
  return 'error' in r ? { error: `${field}: ${r.error}` } : { ip: r.ip };
}

/**
 * Peer addresses are context only: an unusable one is left out rather than refusing the alert. Reserved ranges
 * (documentation, benchmarking) are kept: they are one remote host, and dropping them lost the endpoint to block.
 */
export function peerIp(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const r = parseHostIp(value.slice(0, 100));
  return 'error' in r ? undefined : r.ip;
}

export type Endpoint = { ip?: unknown; port?: unknown };
export type Sides = { device: { ip: string; port?: number }; peer?: { ip: string; port?: number } } | { error: string };

/**
 * For flow events: the device is the internal side. With both sides internal the originator is the device
 * (lateral movement starts there); with neither there is nothing of ours to contain.
 */
export function pickSides(src: Endpoint, dst: Endpoint, internal: InternalMatcher): Sides {
  const s = src.ip === undefined ? undefined : deviceIp(src.ip, 'source address');
  const d = dst.ip === undefined ? undefined : deviceIp(dst.ip, 'destination address');
  const sOk = s && 'ip' in s ? s.ip : undefined;
  const dOk = d && 'ip' in d ? d.ip : undefined;
  const sIn = sOk !== undefined && internal.contains(sOk);
  const dIn = dOk !== undefined && internal.contains(dOk);
  const side = (ip: string, port: unknown) => { const p = cleanPort(port); return p === undefined ? { ip } : { ip, port: p }; };
  // The other side is a peer: its looser rules apply (a documentation-range server is still the server).
  const sPeer = peerIp(src.ip);
  const dPeer = peerIp(dst.ip);
  if (sIn) return { device: side(sOk, src.port), ...(dPeer ? { peer: side(dPeer, dst.port) } : {}) };
  if (dIn) return { device: side(dOk, dst.port), ...(sPeer ? { peer: side(sPeer, src.port) } : {}) };
  const problems = [s && 'error' in s ? s.error : undefined, d && 'error' in d ? d.error : undefined].filter(Boolean);
  if (!s && !d) return { error: 'no usable device: the event names no address' };
  return { error: `no usable device: no address of the event is in ingest.internal${problems.length ? ` (${problems.join('; ')})` : ''}` };
}

/** Final check against the shared contract, so a normaliser bug can never put a malformed alert on the queue. */
export function finish(candidate: NormalisedAlert): Outcome {
  const r = NormalisedAlert.safeParse(candidate);
  return r.success ? { ok: true, alert: r.data } : refuse('the normalised alert does not satisfy the contract', r.error.issues);
}

/** zod failure → refusal with issues; compiled schemas are passed in, never built per call. */
export function schemaRefusal(what: string, error: z.ZodError): Outcome {
  return refuse(`not a ${what}: ${error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, error.issues.slice(0, 20));
}
