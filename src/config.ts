// Loads sheriff.yaml: YAML → ${env:NAME} substitution → zod (strict) → per-connector option schemas.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseAllDocuments } from 'yaml';
import { SourceName } from './contracts/alert.js';
import { cidr, defaultInternalCidrs, duration } from './contracts/net.js';
import { connectorModules } from '../connectors/index.js';

const SourceAuth = z.object({
  /** HMAC-SHA256 secret for X-Sheriff-Signature. */
  secret: z.string().min(16, 'use a secret of at least 16 characters').optional(),
  /** Bearer token. */
  token: z.string().min(16, 'use a token of at least 16 characters').optional(),
  allowUnauthenticated: z.boolean().default(false),
  /** Alertmanager: labels that carry the device address, first match wins. */
  deviceLabels: z.array(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/)).optional(),
}).strict();

const OperatorToken = z.object({
  name: z.string().regex(/^[a-zA-Z0-9_.@-]{1,64}$/),
  role: z.enum(['viewer', 'approver', 'admin']),
  token: z.string().min(16, 'use a token of at least 16 characters'),
}).strict();

const ConnectorEntry = z.object({
  type: z.string(),
  /** Devices this connector is responsible for; absent = every device. */
  scope: z.array(cidr).optional(),
}).passthrough();

const Notifier = z.discriminatedUnion('type', [
  z.object({ type: z.literal('slack'), url: z.url() }).strict(),
  z.object({ type: z.literal('webhook'), url: z.url(), secret: z.string().min(16).optional() }).strict(),
]);

/** Per-connector circuit breaker: `failures` consecutive retryable failures open it for `coolDown`. */
const breakerDefaults = { failures: 5, coolDown: 30_000 };
const BreakerLimits = z.object({
  failures: z.number().int().min(1).max(1000).default(breakerDefaults.failures),
  coolDown: duration.default(breakerDefaults.coolDown),
}).strict();

/** Token buckets per client (operator token, else source IP): `perMinute` refill, `burst` capacity; 0 = off. */
const Bucket = z.object({ perMinute: z.number().int().min(0).max(10_000_000), burst: z.number().int().min(1).max(1_000_000) }).strict();
const httpDefaults = {
  api: { perMinute: 6000, burst: 1000 },
  anonymous: { perMinute: 600, burst: 100 },
  webhooks: { perMinute: 60_000, burst: 5000 },
};
const HttpLimits = z.object({
  /** Requests with a valid operator token, per token. */
  api: Bucket.default(httpDefaults.api),
  /** Everything else but webhooks and health probes (no or a wrong token, /metrics, the console), per source IP. */
  anonymous: Bucket.default(httpDefaults.anonymous),
  /** POST /v1/alerts/:source, per source and IP. */
  webhooks: Bucket.default(httpDefaults.webhooks),
}).strict();
export type HttpLimits = z.infer<typeof HttpLimits>;
/** Redis Sentinel: ioredis asks the sentinels for the current master of group `name` and follows failovers. */
export const RedisSentinel = z.object({
  sentinels: z.array(z.object({
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65535).default(26379),
  }).strict()).min(1),
  /** The master group name (`sentinel monitor <name> …`). */
  name: z.string().min(1).max(128),
  username: z.string().max(128).optional(),
  password: z.string().optional(),
  sentinelPassword: z.string().optional(),
  db: z.number().int().min(0).max(15).default(0),
  tls: z.boolean().default(false),
}).strict();
export type RedisSentinel = z.infer<typeof RedisSentinel>;

export const ConfigSchema = z.object({
  mode: z.enum(['passive', 'active']).default('passive'),
  /** A redis:// or rediss:// URL, or a Sentinel group (see docs/deploy.md). */
  redis: z.union([z.string(), RedisSentinel]).default('redis://127.0.0.1:6379'),
  /** Key prefix for everything sheriff keeps in Redis (hash-tagged for Redis Cluster). */
  redisPrefix: z.string().regex(/^[{}a-zA-Z0-9_-]{1,40}$/).default('{sheriff}'),
  listen: z.string().regex(/^[^\s]+:\d{1,5}$/, 'use host:port, e.g. 127.0.0.1:8080').default('127.0.0.1:8080'),
  /** Public URL of the console, used in notifications. */
  publicUrl: z.url().optional(),
  playbooks: z.string().default('./playbooks'),
  auth: z.object({ tokens: z.array(OperatorToken).default([]) }).strict().default({ tokens: [] }),
  sources: z.partialRecord(SourceName, SourceAuth).default({}),
  ingest: z.object({
    internal: z.array(cidr).default(defaultInternalCidrs),
    bodyLimit: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    dedupeWindow: duration.default(24 * 3_600_000),
    retention: duration.default(7 * 86_400_000),
  }).strict().default({ internal: defaultInternalCidrs, bodyLimit: 1024 * 1024, dedupeWindow: 24 * 3_600_000, retention: 7 * 86_400_000 }),
  protected: z.object({
    cidrs: z.array(cidr).default([]),
    hostnames: z.array(z.string().max(253)).default([]),
  }).strict().default({ cidrs: [], hostnames: [] }),
  limits: z.object({
    maxNewPerHour: z.number().int().min(0).default(20),
    maxActive: z.number().int().min(0).default(200),
    breaker: BreakerLimits.default(breakerDefaults),
    http: HttpLimits.default(httpDefaults),
  }).strict().default({ maxNewPerHour: 20, maxActive: 200, breaker: breakerDefaults, http: httpDefaults }),
  ttl: z.object({ default: duration.default(2 * 3_600_000), max: duration.default(7 * 86_400_000) }).strict()
    .default({ default: 2 * 3_600_000, max: 7 * 86_400_000 }),
  approval: z.object({ ttl: duration.default(3_600_000) }).strict().default({ ttl: 3_600_000 }),
  reconcile: z.object({ interval: duration.default(300_000) }).strict().default({ interval: 300_000 }),
  /** Crash recovery: a dead worker's jobs go back to the queue once their lock lapses (checked every stalledInterval). */
  workers: z.object({
    lockDuration: duration.default(30_000),
    stalledInterval: duration.default(30_000),
    /** Every job is idempotent, so a job may be picked up again after several crashes instead of failing. */
    maxStalledCount: z.number().int().min(1).max(1000).default(20),
  }).strict().default({ lockDuration: 30_000, stalledInterval: 30_000, maxStalledCount: 20 }),
  connectors: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, 'connector names are lower-case letters, digits and dashes'), ConnectorEntry)
    .default({ dry: { type: 'log' } }),
  notify: z.array(Notifier).default([]),
}).strict();

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Replaces ${env:NAME} in every string; a missing variable is a problem, not an empty string. */
const MAX_DEPTH = 32; // no real config nests this deep; deeper input would overflow the stack here and in zod

function substitute(value: unknown, path: string, problems: string[], depth = 0): unknown {
  if (depth > MAX_DEPTH) {
    problems.push(`${path || '(root)'}: nested more than ${MAX_DEPTH} levels deep`);
    return null;
  }
  if (typeof value === 'string') {
    return value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = process.env[name];
      if (v === undefined) {
        problems.push(`${path || '(root)'}: environment variable ${name} is not set (export ${name}=… or remove the reference)`);
        return '';
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, `${path}[${i}]`, problems, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, path ? `${path}.${k}` : k, problems, depth + 1)]));
  }
  return value;
}

export function formatIssue(issue: z.core.$ZodIssue, prefix = ''): string {
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${path ? `${path}.` : ''}${k}: unknown key (check the spelling; see sheriff.example.yaml for the allowed keys)`).join('\n');
  }
  return `${path || '(root)'}: ${issue.message}`;
}

function connectorProblems(connectors: Record<string, { type: string; scope?: unknown }>): string[] {
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(connectors)) {
    const mod = connectorModules[entry.type];
    if (!mod) {
      problems.push(`connectors.${name}.type: unknown connector type "${entry.type}" (known: ${Object.keys(connectorModules).join(', ')})`);
      continue;
    }
    const { type: _t, scope: _s, ...options } = entry;
    const opt = mod.optionsSchema.safeParse(options);
    if (!opt.success) problems.push(...opt.error.issues.flatMap((i) => formatIssue(i, `connectors.${name}`).split('\n')));
  }
  return problems;
}

export function parseConfig(input: unknown): Config {
  const problems: string[] = [];
  const substituted = substitute(input ?? {}, '', problems);
  const parsed = ConfigSchema.safeParse(substituted);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.flatMap((i) => formatIssue(i).split('\n')));
    // Report connector problems too, so one run lists everything that needs fixing.
    const raw = (substituted as { connectors?: unknown }).connectors;
    const entries = z.record(z.string(), ConnectorEntry).safeParse(raw ?? {});
    if (entries.success) problems.push(...connectorProblems(entries.data));
    throw new ConfigError(problems);
  }
  if (problems.length) throw new ConfigError(problems);
  const config = parsed.data;
  problems.push(...connectorProblems(config.connectors));
  for (const [source, auth] of Object.entries(config.sources)) {
    if (auth && !auth.secret && !auth.token && !auth.allowUnauthenticated) {
      problems.push(`sources.${source}: set a secret (HMAC) or a token, or allowUnauthenticated: true`);
    }
  }
  if (config.ttl.default > config.ttl.max) problems.push('ttl.default: is longer than ttl.max');
  if (problems.length) throw new ConfigError(problems);
  return config;
}

export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)}); pass --config with an existing file`]);
  }
  const docs = parseAllDocuments(text);
  const doc = Array.isArray(docs) ? docs[0] : docs;
  if (!doc) return parseConfig({});
  if (doc.errors.length) {
    throw new ConfigError(doc.errors.map((e) => `${path}:${e.linePos?.[0]?.line ?? '?'}: YAML: ${e.message.split('\n')[0]}`));
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    throw new ConfigError([`${path}: YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseConfig(value);
}

/** Options for one connector, parsed with its module's schema (call after parseConfig succeeded). */
export function connectorOptions(entry: Config['connectors'][string]): unknown {
  const { type, scope: _s, ...options } = entry;
  const mod = connectorModules[type];
  if (!mod) throw new ConfigError([`unknown connector type "${type}"`]);
  return mod.optionsSchema.parse(options);
}
