// The alert store in Redis: dedupe keys, normalised alerts with raw payloads, per-device and global indexes.
import type { Redis } from 'ioredis';
import type { NormalisedAlert } from '../contracts/alert.js';
import { alertJobKey } from '../queue/names.js';

// One script per flush of the ingest pipeline: one or more deliveries (POSTs that arrived together), each with its
// optional replay check, then per alert the dedupe key and, only if new, store and index.
// The dedupe key's value says how far the alert got: 'q' = stored, queue add under way or done; 'd' = decided.
// A seen alert is a duplicate when it was decided or its job exists. Seen but neither means the queue add never
// happened (Redis went away between this script and the add, and the rollback could not run either): its sender got
// a 503, so the retry is accepted afresh, not called a duplicate and lost. A used signature is refused the same way:
// unless that delivery never reached the queue.
// Keys are all under the hash-tagged prefix, so the script is valid on Redis Cluster too.
// KEYS: all-index, then per delivery [replay key], then per alert seen, alert, device index, job hash.
// ARGV: deliveries, dedupeMs, retentionMs, now, then per delivery replayMs|'', n, then per alert id, ts, json.
// Returns per delivery -1 (replayed) or one flag per alert (1 = new, 0 = duplicate).
const COMMIT = `
local G = tonumber(ARGV[1])
local dedupeMs, retentionMs, now = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local allKey = KEYS[1]
local mine = {}
local function lost(k)
  if mine[KEYS[k]] then return false end
  local seen = redis.call('GET', KEYS[k])
  return seen and seen ~= 'd' and redis.call('EXISTS', KEYS[k + 3]) == 0
end
local out = {}
local k, a = 2, 5
for g = 1, G do
  local replayMs, n = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  local replayed = false
  if replayMs ~= '' then
    if not redis.call('SET', KEYS[k], '1', 'NX', 'PX', replayMs) then
      replayed = true
      for i = 0, n - 1 do
        if lost(k + 1 + i * 4) then replayed = false end
      end
    end
    k = k + 1
  end
  if replayed then
    out[g] = -1
  else
    local flags = {}
    for i = 0, n - 1 do
      local kk, aa = k + i * 4, a + i * 3
      if redis.call('SET', KEYS[kk], 'q', 'NX', 'PX', dedupeMs) or lost(kk) then
        mine[KEYS[kk]] = true
        redis.call('SET', KEYS[kk + 1], ARGV[aa + 2], 'PX', retentionMs)
        redis.call('ZADD', KEYS[kk + 2], ARGV[aa + 1], ARGV[aa])
        redis.call('ZREMRANGEBYSCORE', KEYS[kk + 2], '-inf', now - retentionMs)
        redis.call('PEXPIRE', KEYS[kk + 2], retentionMs)
        redis.call('ZADD', allKey, ARGV[aa + 1], ARGV[aa])
        flags[i + 1] = 1
      else
        flags[i + 1] = 0
      end
    end
    out[g] = flags
  end
  k = k + n * 4
  a = a + n * 3
end
redis.call('ZREMRANGEBYSCORE', allKey, '-inf', now - retentionMs)
return out
`;

// Undo of COMMIT for alerts whose queue add failed: the detector's retry must be accepted, not called a duplicate.
// KEYS: per alert seen, alert, device index; the all-index; then the replay keys of the deliveries undone.
const ROLLBACK = `
local n = tonumber(ARGV[1])
for i = 1, n do
  local base = (i - 1) * 3
  redis.call('DEL', KEYS[base + 1], KEYS[base + 2])
  redis.call('ZREM', KEYS[base + 3], ARGV[i + 1])
  redis.call('ZREM', KEYS[n * 3 + 1], ARGV[i + 1])
end
for k = n * 3 + 2, #KEYS do redis.call('DEL', KEYS[k]) end
return n
`;
type Scripted = Redis & {
  sheriffAlertCommit(...args: (string | number)[]): Promise<Array<number | number[]>>;
  sheriffAlertRollback(...args: (string | number)[]): Promise<number>;
};

/** One POST's accepted alerts and, when it was signed, its signature's replay check (kept for ttlMs). */
export interface Delivery { alerts: NormalisedAlert[]; replay?: { token: string; ttlMs: number } }

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
   * Dedupes and stores deliveries (the ingest pipeline's group commit) in one round trip. One answer per delivery, in
   * order: 'replayed' when its signature was already used, else one flag per alert (true = new and stored).
   */
  async commitMany(deliveries: Delivery[], now = Date.now()): Promise<Array<'replayed' | boolean[]>> {
    const keys: string[] = [this.allKey];
    const args: (string | number)[] = [deliveries.length, this.opts.dedupeWindowMs, this.opts.retentionMs, now];
    for (const d of deliveries) {
      if (d.replay) keys.push(this.replayKey(d.replay.token));
      args.push(d.replay ? d.replay.ttlMs : '', d.alerts.length);
      for (const a of d.alerts) {
        keys.push(this.dedupeKey(a.id), this.alertKey(a.id), this.deviceKey(a.device.ip), alertJobKey(this.prefix, a.id));
        args.push(a.id, Date.parse(a.receivedAt), JSON.stringify(a));
      }
    }
    const out = await this.redis.sheriffAlertCommit(keys.length, ...keys, ...args);
    return out.map((r) => (r === -1 ? 'replayed' : (r as number[]).map((v) => v === 1)));
  }

  /**
   * Records that an alert was decided. Its job is removed soon after (BullMQ retention); from then on this mark is
   * what keeps a re-delivery inside the dedupe window a duplicate.
   */
  async markDecided(id: string): Promise<void> {
    await this.redis.set(this.dedupeKey(id), 'd', 'KEEPTTL', 'XX');
  }

  /** Undoes commit for alerts whose queue add failed, and frees the signatures of their deliveries. */
  async rollback(alerts: NormalisedAlert[], replayTokens: readonly string[] = []): Promise<void> {
    const keys: string[] = [];
    for (const a of alerts) keys.push(this.dedupeKey(a.id), this.alertKey(a.id), this.deviceKey(a.device.ip));
    keys.push(this.allKey);
    for (const t of replayTokens) keys.push(this.replayKey(t));
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
