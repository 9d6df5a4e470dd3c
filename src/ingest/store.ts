// The alert store in Redis: dedupe keys, normalised alerts with raw payloads, per-device and global indexes.
import type { Redis } from 'ioredis';
import type { NormalisedAlert } from '../contracts/alert.js';
import { alertJobKey } from '../queue/names.js';
import { addStandardJobLua, type JobInsert } from './job-insert.js';

// One script per flush of the ingest pipeline: one or more deliveries (POSTs that arrived together), each with its
// optional replay check, then per alert the dedupe key and, only if new, store, index and (with a JobInsert) the
// alert's BullMQ job, added by BullMQ's own addStandardJob (job-insert.ts). Dedupe + store + queue is one atomic
// round trip: there is no moment at which an alert is stored but not queued.
// The dedupe key's value says how far the alert got: 'q' = stored and queued; 'd' = decided. A seen alert is a
// duplicate when it was decided or its job exists. Seen but neither means its job is gone undecided (a job that
// failed for good and outlived its retention, or a script that Redis aborted half-way): it is taken afresh, not
// called a duplicate and lost. A used signature is refused the same way: unless its delivery never reached the queue.
// A job add that fails inside the script (pcall) undoes that alert and frees its delivery's signature, so the
// detector's retry is accepted; the delivery is answered 503.
// Per-alert keys are built here from the hash-tagged prefix, as BullMQ's own scripts build job keys: every key of the
// script lives in one Cluster slot.
// KEYS: the all-index, then with a JobInsert the queue's nine keys.
// ARGV: deliveries, dedupeMs, retentionMs, now, key base, job key prefix, packed job options in hex ('' = store only;
// hex keeps every argument a string, which ioredis writes in one piece), then
// per delivery replay token|'', replay ms|'', n, then per alert id, ts, device ip, job name, alert JSON without raw,
// raw JSON|''.
// Returns per delivery -1 (replayed) or one flag per alert (1 = new, 0 = duplicate, or a text when its job add failed
// and was undone).
const COMMIT = `
local G = tonumber(ARGV[1])
local dedupeMs, retentionMs, now = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local base, jobPrefix = ARGV[5], ARGV[6]
local allKey = KEYS[1]
local queueKeys, opts = nil, nil
if ARGV[7] ~= '' then
  queueKeys = { KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10] }
  opts = cmsgpack.unpack((ARGV[7]:gsub('..', function(h) return string.char(tonumber(h, 16)) end)))
end
local mine = {}
local function lost(id)
  if mine[id] then return false end
  local seen = redis.call('GET', base .. ':seen:' .. id)
  return seen and seen ~= 'd' and redis.call('EXISTS', jobPrefix .. id) == 0
end
local out = {}
local a = 8
for g = 1, G do
  local token, replayMs, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  a = a + 3
  local replayKey = false
  local replayed = false
  if token ~= '' then
    replayKey = base .. ':replay:' .. token
    if not redis.call('SET', replayKey, '1', 'NX', 'PX', replayMs) then
      replayed = true
      for i = 0, n - 1 do
        if lost(ARGV[a + i * 6]) then replayed = false end
      end
    end
  end
  if replayed then
    out[g] = -1
  else
    local flags = {}
    local failed = false
    for i = 0, n - 1 do
      local aa = a + i * 6
      local id, ts, rest, raw = ARGV[aa], ARGV[aa + 1], ARGV[aa + 4], ARGV[aa + 5]
      local seenKey = base .. ':seen:' .. id
      if redis.call('SET', seenKey, 'q', 'NX', 'PX', dedupeMs) or lost(id) then
        local alertKey, deviceKey = base .. ':alert:' .. id, base .. ':device:' .. ARGV[aa + 2]
        if raw == '' then
          redis.call('SET', alertKey, rest, 'PX', retentionMs)
        else
          redis.call('SET', alertKey, string.sub(rest, 1, -2) .. ',"raw":' .. raw .. '}', 'PX', retentionMs)
        end
        redis.call('ZADD', deviceKey, ts, id)
        redis.call('ZREMRANGEBYSCORE', deviceKey, '-inf', now - retentionMs)
        redis.call('PEXPIRE', deviceKey, retentionMs)
        redis.call('ZADD', allKey, ts, id)
        flags[i + 1] = 1
        mine[id] = true
        if queueKeys then
          local jobKey = jobPrefix .. id
          local existed = redis.call('EXISTS', jobKey)
          opts['jobId'] = id
          local ok, res = pcall(bullmqAddStandardJob, queueKeys,
            { cmsgpack.pack({ jobPrefix, id, ARGV[aa + 3], now }), '{"alert":' .. rest .. '}', cmsgpack.pack(opts) })
          if not ok or (type(res) == 'number' and res < 0) then
            redis.call('DEL', seenKey, alertKey)
            redis.call('ZREM', deviceKey, id)
            redis.call('ZREM', allKey, id)
            if existed == 0 then
              redis.call('DEL', jobKey)
              redis.call('LREM', queueKeys[1], 0, id)
              redis.call('LREM', queueKeys[2], 0, id)
            end
            mine[id] = nil
            flags[i + 1] = 'job add failed: ' .. (type(res) == 'table' and tostring(res.err) or tostring(res))
            failed = true
          end
        end
      else
        flags[i + 1] = 0
      end
    end
    if failed and replayKey then redis.call('DEL', replayKey) end
    out[g] = flags
  end
  a = a + n * 6
end
redis.call('ZREMRANGEBYSCORE', allKey, '-inf', now - retentionMs)
return out
`;
type Scripted = Redis & { sheriffAlertCommit(...args: (string | number)[]): Promise<Array<number | Array<number | string>>> };

/** One POST's accepted alerts and, when it was signed, its signature's replay check (kept for ttlMs). */
export interface Delivery { alerts: NormalisedAlert[]; replay?: { token: string; ttlMs: number } }

/** A delivery's outcome: its signature was used before; a job add failed (nothing of it kept); or per alert, new? */
export type CommitAnswer = 'replayed' | { failed: string } | boolean[];

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
      redis.defineCommand('sheriffAlertCommit', { lua: addStandardJobLua() + COMMIT });
    }
    this.redis = r;
  }

  private dedupeKey(id: string) { return `${this.base}:seen:${id}`; }
  private alertKey(id: string) { return `${this.base}:alert:${id}`; }
  private deviceKey(ip: string) { return `${this.base}:device:${ip}`; }
  private get allKey() { return `${this.base}:all`; }
  replayKey(token: string) { return `${this.base}:replay:${token}`; }

  /**
   * Dedupes, stores and (with `enqueue`) queues deliveries — the ingest pipeline's group commit — in one atomic round
   * trip. One answer per delivery, in order: 'replayed' when its signature was already used; `{ failed }` when a job
   * add failed inside Redis (those alerts were undone and the signature freed: a retry is welcome); else one flag per
   * alert (true = new: stored, and queued with `enqueue`).
   */
  async commitMany(deliveries: Delivery[], opts: { enqueue?: JobInsert; now?: number } = {}): Promise<CommitAnswer[]> {
    const { enqueue, now = Date.now() } = opts;
    const keys: string[] = enqueue ? [this.allKey, ...enqueue.keys] : [this.allKey];
    const args: (string | number)[] = [
      deliveries.length, this.opts.dedupeWindowMs, this.opts.retentionMs, now,
      this.base, enqueue?.jobPrefix ?? alertJobKey(this.prefix, ''), enqueue?.opts.toString('hex') ?? '',
    ];
    for (const d of deliveries) {
      args.push(d.replay?.token ?? '', d.replay?.ttlMs ?? '', d.alerts.length);
      for (const a of d.alerts) {
        const { raw, ...rest } = a;
        args.push(a.id, Date.parse(a.receivedAt), a.device.ip, a.source, JSON.stringify(rest), raw === undefined ? '' : JSON.stringify(raw));
      }
    }
    const out = await this.redis.sheriffAlertCommit(keys.length, ...keys, ...args);
    return out.map((r) => {
      if (r === -1) return 'replayed';
      const flags = r as Array<number | string>;
      const failed = flags.find((v): v is string => typeof v === 'string');
      return failed === undefined ? flags.map((v) => v === 1) : { failed: failed.slice(0, 300) };
    });
  }

  /**
   * Records that an alert was decided. Its job is removed soon after (BullMQ retention); from then on this mark is
   * what keeps a re-delivery inside the dedupe window a duplicate.
   */
  async markDecided(id: string): Promise<void> {
    await this.redis.set(this.dedupeKey(id), 'd', 'KEEPTTL', 'XX');
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
