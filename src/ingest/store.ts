// The alert store in Redis: dedupe keys, normalised alerts with raw payloads, per-device and global indexes.
import type { Redis } from 'ioredis';
import type { NormalisedAlert } from '../contracts/alert.js';
import { alertJobKey } from '../queue/names.js';

// One script per POST: replay check, then per alert the dedupe key and, only if new, store and index.
// The dedupe key's value says how far the alert got: 'q' = stored, queue add under way or done; 'd' = decided.
// A seen alert is a duplicate when it was decided or its job exists. Seen but neither means the queue add never
// happened (Redis went away between this script and the add, and the rollback could not run either): its sender got
// a 503, so the retry is accepted afresh, not called a duplicate and lost.
// Keys are all under the hash-tagged prefix, so the script is valid on Redis Cluster too.
const COMMIT = `
local n = tonumber(ARGV[1])
local dedupeMs, retentionMs, now, replayMs = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local k = 1
local first = 1
if replayMs ~= '' then first = 2 end
local allKey = KEYS[first]
local mine = {}
local function lost(i)
  local base = first + 1 + (i - 1) * 4
  if mine[KEYS[base]] then return false end
  local seen = redis.call('GET', KEYS[base])
  return seen and seen ~= 'd' and redis.call('EXISTS', KEYS[base + 3]) == 0
end
if replayMs ~= '' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', replayMs) then
    -- A used signature is refused unless that delivery never reached the queue (its sender was answered 503).
    local retry = false
    for i = 1, n do
      if lost(i) then retry = true end
    end
    if not retry then return -1 end
  end
end
k = first + 1
local out = {}
local a = 6
for i = 1, n do
  local id, ts = ARGV[a], ARGV[a + 1]
  if redis.call('SET', KEYS[k], 'q', 'NX', 'PX', dedupeMs) or lost(i) then
    mine[KEYS[k]] = true
    redis.call('SET', KEYS[k + 1], ARGV[a + 2], 'PX', retentionMs)
    redis.call('ZADD', KEYS[k + 2], ts, id)
    redis.call('ZREMRANGEBYSCORE', KEYS[k + 2], '-inf', now - retentionMs)
    redis.call('PEXPIRE', KEYS[k + 2], retentionMs)
    redis.call('ZADD', allKey, ts, id)
    out[i] = 1
  else
    out[i] = 0
  end
  k = k + 4
  a = a + 3
end
redis.call('ZREMRANGEBYSCORE', allKey, '-inf', now - retentionMs)
return out
`;

// Undo of COMMIT for alerts whose queue add failed: the detector's retry must be accepted, not called a duplicate.
const ROLLBACK = `
local n = tonumber(ARGV[1])
for i = 1, n do
  local base = (i - 1) * 3
  redis.call('DEL', KEYS[base + 1], KEYS[base + 2])
  redis.call('ZREM', KEYS[base + 3], ARGV[i + 1])
  redis.call('ZREM', KEYS[n * 3 + 1], ARGV[i + 1])
end
if #KEYS > n * 3 + 1 then redis.call('DEL', KEYS[n * 3 + 2]) end
return n
`;

type Scripted = Redis & {
  sheriffAlertCommit(...args: (string | number)[]): Promise<number | number[]>;
  sheriffAlertRollback(...args: (string | number)[]): Promise<number>;
};

export interface ListQuery { device?: string; since?: number; limit: number; cursor?: string }
export interface ListPage { items: NormalisedAlert[]; next: string | null }

const encodeCursor = (score: number, id: string) => Buffer.from(JSON.stringify([score, id])).toString('base64url');
function decodeCursor(cursor: string): { score: number; id: string } | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string' && /^[a-z0-9-]{1,80}$/.test(v[1])) return { score: v[0], id: v[1] };
  } catch { /* fall through */ }
  return undefined;
}

export class AlertStore {
  private readonly redis: Scripted;
  private readonly base: string;

  constructor(redis: Redis, private readonly prefix: string, private readonly opts: { retentionMs: number; dedupeWindowMs: number }) {
    this.base = `${prefix}:ingest`;
    const r = redis as Scripted;
    if (typeof r.sheriffAlertCommit !== 'function') {
      redis.defineCommand('sheriffAlertCommit', { lua: COMMIT });
      redis.defineCommand('sheriffAlertRollback', { lua: ROLLBACK });
    }
    this.redis = r;
  }

  private dedupeKey(id: string) { return `${this.base}:seen:${id}`; }
  private alertKey(id: string) { return `${this.base}:alert:${id}`; }
  private deviceKey(ip: string) { return `${this.base}:device:${ip}`; }
  private get allKey() { return `${this.base}:all`; }
  replayKey(token: string) { return `${this.base}:replay:${token}`; }

  /**
   * Dedupes and stores a batch in one round trip. Returns 'replayed' when the signature was already used,
   * otherwise one flag per alert: true = new (stored), false = duplicate inside the dedupe window.
   */
  async commit(alerts: NormalisedAlert[], replay?: { token: string; ttlMs: number }, now = Date.now()): Promise<'replayed' | boolean[]> {
    const keys: string[] = [];
    if (replay) keys.push(this.replayKey(replay.token));
    keys.push(this.allKey);
    const args: (string | number)[] = [alerts.length, this.opts.dedupeWindowMs, this.opts.retentionMs, now, replay ? replay.ttlMs : ''];
    for (const a of alerts) {
      keys.push(this.dedupeKey(a.id), this.alertKey(a.id), this.deviceKey(a.device.ip), alertJobKey(this.prefix, a.id));
      args.push(a.id, Date.parse(a.receivedAt), JSON.stringify(a));
    }
    const out = await this.redis.sheriffAlertCommit(keys.length, ...keys, ...args);
    if (out === -1) return 'replayed';
    return (out as number[]).map((v) => v === 1);
  }

  /**
   * Records that an alert was decided. Its job is removed soon after (BullMQ retention); from then on this mark is
   * what keeps a re-delivery inside the dedupe window a duplicate.
   */
  async markDecided(id: string): Promise<void> {
    await this.redis.set(this.dedupeKey(id), 'd', 'KEEPTTL', 'XX');
  }

  async rollback(alerts: NormalisedAlert[], replayToken?: string): Promise<void> {
    const keys: string[] = [];
    for (const a of alerts) keys.push(this.dedupeKey(a.id), this.alertKey(a.id), this.deviceKey(a.device.ip));
    keys.push(this.allKey);
    if (replayToken) keys.push(this.replayKey(replayToken));
    await this.redis.sheriffAlertRollback(keys.length, ...keys, alerts.length, ...alerts.map((a) => a.id));
  }

  async get(id: string): Promise<NormalisedAlert | null> {
    if (!/^[a-z0-9-]{1,80}$/.test(id)) return null;
    const text = await this.redis.get(this.alertKey(id));
    return text ? (JSON.parse(text) as NormalisedAlert) : null;
  }

  /** Newest first. The cursor is (score, id) so ties on the millisecond neither repeat nor vanish across pages. */
  async list(q: ListQuery): Promise<ListPage> {
    const key = q.device ? this.deviceKey(q.device) : this.allKey;
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const min = q.since === undefined ? '-inf' : String(q.since);
    const max = after ? String(after.score) : '+inf';
    const picked: { id: string; score: number }[] = [];
    const chunk = q.limit + 1 + 50;
    for (let offset = 0; picked.length <= q.limit; offset += chunk) {
      const rows = await this.redis.zrevrangebyscore(key, max, min, 'WITHSCORES', 'LIMIT', offset, chunk);
      for (let i = 0; i + 1 < rows.length && picked.length <= q.limit; i += 2) {
        const id = rows[i] as string;
        const score = Number(rows[i + 1]);
        if (after && score === after.score && id >= after.id) continue;
        picked.push({ id, score });
      }
      if (rows.length < chunk * 2) break;
    }
    const page = picked.slice(0, q.limit);
    const texts = page.length ? await this.redis.mget(page.map((p) => this.alertKey(p.id))) : [];
    const items = texts.flatMap((t) => (t ? [JSON.parse(t) as NormalisedAlert] : []));
    const last = page[page.length - 1];
    return { items, next: picked.length > q.limit && last ? encodeCursor(last.score, last.id) : null };
  }

  listByDevice(ip: string, q: Omit<ListQuery, 'device'>): Promise<ListPage> {
    return this.list({ ...q, device: ip });
  }
}
