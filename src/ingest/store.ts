// The alert store in Redis: dedupe keys, normalised alerts with raw payloads, per-device and global indexes.
import type { Redis } from 'ioredis';
import type { NormalisedAlert } from '../contracts/alert.js';
import type { JobArgs, JobInserter } from './job-insert.js';

// One script per POST: replay check, then per alert SET NX the dedupe key and, only if new, store and index.
// With `enqueue` (BullMQ's addStandardJob wrapped as a local function, see job-insert.ts) each new alert's job
// is added in the same script, so store + queue is one atomic round trip. Keys are all under the hash-tagged
// prefix, so the script is valid on Redis Cluster too.
function commitLua(enqueue?: string): string {
  const per = enqueue ? 4 : 3;
  return `${enqueue ?? ''}
local n = tonumber(ARGV[1])
local dedupeMs, retentionMs, now, replayMs = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local k = 1
local replayKey = false
if replayMs ~= '' then
  replayKey = KEYS[1]
  if not redis.call('SET', replayKey, '1', 'NX', 'PX', replayMs) then return -1 end
  k = 2
end
local allKey = KEYS[k]
k = k + 1
${enqueue ? 'local queueKeys = { unpack(KEYS, k, k + 8) }; k = k + 9' : ''}
local out = {}
local a = 6
for i = 1, n do
  local id, ts = ARGV[a], ARGV[a + 1]
  if redis.call('SET', KEYS[k], '1', 'NX', 'PX', dedupeMs) then
    redis.call('SET', KEYS[k + 1], ARGV[a + 2], 'PX', retentionMs)
    redis.call('ZADD', KEYS[k + 2], ts, id)
    redis.call('ZREMRANGEBYSCORE', KEYS[k + 2], '-inf', now - retentionMs)
    redis.call('PEXPIRE', KEYS[k + 2], retentionMs)
    redis.call('ZADD', allKey, ts, id)${enqueue ? ENQUEUE_STEP : ''}
    out[i] = 1
  else
    out[i] = 0
  end
  k = k + ${per}
  a = a + ${enqueue ? 6 : 3}
end
redis.call('ZREMRANGEBYSCORE', allKey, '-inf', now - retentionMs)
return out
`;
}

// A failed job add (the script returned an error code or a Redis call inside it raised) leaves this alert
// neither stored nor queued, and frees the signature, so the detector's retry is accepted; alerts before it
// in the batch stay stored and queued. A job hash BullMQ wrote before failing is removed unless it existed
// already: BullMQ would otherwise answer the retry "duplicate job" without queueing it.
const ENQUEUE_STEP = `
    local existed = redis.call('EXISTS', KEYS[k + 3])
    local ok, res = pcall(bullmqAddStandardJob, queueKeys, { ARGV[a + 3], ARGV[a + 4], ARGV[a + 5] })
    if not ok or (type(res) == 'number' and res < 0) then
      redis.call('DEL', KEYS[k], KEYS[k + 1])
      redis.call('ZREM', KEYS[k + 2], id)
      redis.call('ZREM', allKey, id)
      if existed == 0 then redis.call('DEL', KEYS[k + 3]) end
      if replayKey then redis.call('DEL', replayKey) end
      local why = type(res) == 'table' and res.err or tostring(res)
      return redis.error_reply('SHERIFF_ENQUEUE_FAILED ' .. id .. ': ' .. why)
    end`;

type Scripted = Redis & {
  sheriffAlertCommit(...args: (string | number)[]): Promise<number | number[]>;
  sheriffAlertCommitEnqueue(...args: (string | number | Buffer)[]): Promise<number | number[]>;
};

/** Jobs to add with the alerts in the same script: one per alert, in the same order. */
export interface Enqueue { inserter: JobInserter; jobs: JobArgs[] }

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

  constructor(redis: Redis, prefix: string, private readonly opts: { retentionMs: number; dedupeWindowMs: number }) {
    this.base = `${prefix}:ingest`;
    const r = redis as Scripted;
    if (typeof r.sheriffAlertCommit !== 'function') redis.defineCommand('sheriffAlertCommit', { lua: commitLua() });
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
  async commit(alerts: NormalisedAlert[], replay?: { token: string; ttlMs: number }, now = Date.now(), enqueue?: Enqueue): Promise<'replayed' | boolean[]> {
    if (enqueue && enqueue.jobs.length !== alerts.length) throw new Error('one job per alert');
    const keys: string[] = [];
    if (replay) keys.push(this.replayKey(replay.token));
    keys.push(this.allKey);
    if (enqueue) keys.push(...enqueue.inserter.keys);
    const args: (string | number | Buffer)[] = [alerts.length, this.opts.dedupeWindowMs, this.opts.retentionMs, now, replay ? replay.ttlMs : ''];
    alerts.forEach((a, i) => {
      keys.push(this.dedupeKey(a.id), this.alertKey(a.id), this.deviceKey(a.device.ip));
      args.push(a.id, Date.parse(a.receivedAt), JSON.stringify(a));
      const job = enqueue?.jobs[i];
      if (enqueue && job) {
        keys.push(enqueue.inserter.jobKey(a.id));
        args.push(...job);
      }
    });
    const out = enqueue
      ? await this.withEnqueue(enqueue.inserter).sheriffAlertCommitEnqueue(keys.length, ...keys, ...args)
      : await this.redis.sheriffAlertCommit(keys.length, ...keys, ...(args as (string | number)[]));
    if (out === -1) return 'replayed';
    return (out as number[]).map((v) => v === 1);
  }

  /** The store+queue script embeds BullMQ's script, so it is defined when the first queue comes along. */
  private withEnqueue(inserter: JobInserter): Scripted {
    if (typeof this.redis.sheriffAlertCommitEnqueue !== 'function') this.redis.defineCommand('sheriffAlertCommitEnqueue', { lua: commitLua(inserter.lua) });
    return this.redis;
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
