// Action records in Redis: the record, indexes by state, device and time, and the live-action index for dedupe.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ActionRecord, type ActionState, type ConnectorStatus } from '../contracts/action.js';
import { SheriffError } from '../errors.js';
import { canTransition, liveStates } from './state-machine.js';
import { canonical } from './audit.js';
import { RedisScript } from '../redis-script.js';

// Compare-and-set of one record: writes only if the stored JSON is still the one the caller read (by SHA1).
// Returns 1 written, 0 changed meanwhile (read again), -1 gone.
const CAS = new RedisScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
if redis.sha1hex(cur) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`, 1);

// The live action for a live key and its record's JSON, in one round trip.
const LIVE_RECORD = new RedisScript(`
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
return {id, redis.call('GET', ARGV[2] .. id)}
`, 1);

// Is any of the device's newest records (up to 51, as before) active or enforcing? Index lookups only: no record is read.
const DEVICE_LIVE = new RedisScript(`
for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, 50)) do
  if redis.call('ZSCORE', KEYS[2], id) or redis.call('ZSCORE', KEYS[3], id) then return 1 end
end
return 0
`, 3);

export function newActionId(): string {
  return `a-${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
}

/** A stable id for a request made on behalf of one alert: a decide job re-run after a crash finds its own record. */
export function actionIdFor(idempotencyKey: string, parts: { playbook: string | null; action: string; ip: string; params: unknown }): string {
  const h = createHash('sha256').update(idempotencyKey).update('\n').update(canonical(parts)).digest('hex');
  return `a-${h.slice(0, 24)}`;
}

/** Identity of "the same containment": dedupe extends a live action with this key instead of creating another. */
export function liveKey(ip: string, action: string, params: unknown): string {
  return `${ip}|${action}|${canonical(params)}`;
}

export function liveKeyOf(r: Pick<ActionRecord, 'target' | 'action' | 'params'>): string {
  return liveKey(r.target.ip, r.action, r.params);
}

export interface ListFilter {
  state?: ActionState;
  device?: string;
  action?: string;
  since?: number;
  limit: number;
  cursor?: string;
}

export class Ledger {
  readonly k: {
    action: (id: string) => string;
    all: string;
    state: (s: string) => string;
    device: (ip: string) => string;
    live: string;
    autoCreated: string;
  };
  /**
   * WATCH transactions on one connection must not interleave, so each connection runs them one at a time.
   * A few extra connections (lanes) let transactions on different records run side by side: under an alert
   * storm one chain was the decide path's bottleneck. WATCH still guards every record across lanes and processes.
   */
  private readonly lanes: Array<{ redis: Redis; chain: Promise<unknown> }>;

  constructor(private readonly redis: Redis, readonly prefix: string, opts: { lanes?: number } = {}) {
    this.lanes = [{ redis, chain: Promise.resolve() }];
    for (let i = 1; i < (opts.lanes ?? 8); i++) {
      const dup = redis.duplicate();
      dup.on('error', () => undefined); // the primary connection reports Redis trouble
      redis.once('end', () => dup.disconnect()); // closing the ledger's connection closes its lanes
      this.lanes.push({ redis: dup, chain: Promise.resolve() });
    }
    this.k = {
      action: (id) => `${prefix}:action:${id}`,
      all: `${prefix}:idx:all`,
      state: (s) => `${prefix}:idx:state:${s}`,
      device: (ip) => `${prefix}:idx:device:${ip}`,
      live: `${prefix}:idx:live`,
      autoCreated: `${prefix}:idx:auto-created`,
    };
  }

  /** Runs `fn` alone on one lane's connection; a lane not connected yet hands over to the primary one. */
  private serial<T>(key: string | null, fn: (redis: Redis) => Promise<T>): Promise<T> {
    let h = 0;
    for (let i = 0; key !== null && i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
    let lane = this.lanes[Math.abs(h) % this.lanes.length] as (typeof this.lanes)[number];
    if (lane.redis.status !== 'ready') lane = this.lanes[0] as (typeof this.lanes)[number];
    const l = lane;
    const job = () => fn(l.redis);
    const run = l.chain.then(job, job);
    l.chain = run.catch(() => undefined);
    return run;
  }

  async get(id: string): Promise<ActionRecord | null> {
    const raw = await this.redis.get(this.k.action(id));
    return raw ? (JSON.parse(raw) as ActionRecord) : null;
  }

  async mustGet(id: string): Promise<ActionRecord> {
    const r = await this.get(id);
    if (!r) throw new SheriffError('NOT_FOUND', `no action ${id}`);
    return r;
  }

  async getMany(ids: string[]): Promise<ActionRecord[]> {
    if (!ids.length) return [];
    const raws = await this.redis.mget(...ids.map((id) => this.k.action(id)));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as ActionRecord);
  }

  liveKeyFor(ip: string, action: string, params: unknown): string {
    return liveKey(ip, action, params);
  }

  /** The live action for (device, action, params) with its record's JSON (false when the record is already gone). */
  async findLiveRecord(key: string): Promise<{ id: string; raw: string | null } | null> {
    const res = await LIVE_RECORD.run(this.redis, [this.k.live], [key, `${this.prefix}:action:`]) as [string, string | false] | null;
    return res ? { id: res[0], raw: res[1] || null } : null;
  }

  /** Creates a record; refuses (returns the existing id) when a live action has the same live key or the id exists. */
  async create(record: ActionRecord, opts: { auto: boolean }): Promise<{ created: boolean; id: string }> {
    ActionRecord.parse(record);
    const key = liveKeyOf(record);
    // Every create WATCHes the one live index: creates share the primary lane rather than abort one another.
    return this.serial(null, async (redis) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        await redis.watch(this.k.live, this.k.action(record.id));
        const existing = await redis.hget(this.k.live, key);
        if (existing) {
          await redis.unwatch();
          return { created: false, id: existing };
        }
        if (await redis.exists(this.k.action(record.id))) {
          // Same deterministic id: this request was already recorded (a re-run), whatever state it is in now.
          await redis.unwatch();
          return { created: false, id: record.id };
        }
        const at = Date.parse(record.createdAt);
        const m = redis.multi()
          .set(this.k.action(record.id), JSON.stringify(record))
          .zadd(this.k.all, at, record.id)
          .zadd(this.k.state(record.state), at, record.id)
          .zadd(this.k.device(record.target.ip), at, record.id);
        if (liveStates.includes(record.state)) m.hset(this.k.live, key, record.id);
        if (opts.auto) m.zadd(this.k.autoCreated, at, record.id);
        if (await m.exec()) return { created: true, id: record.id };
      }
      throw new SheriffError('INTERNAL', 'ledger create: too much contention');
    });
  }

  /**
   * Read-modify-write of one record. `fn` returns the new record (or null for no change);
   * state changes are checked against the state machine and recorded in history.
   */
  async update(id: string, fn: (r: ActionRecord) => ActionRecord | null): Promise<{ before: ActionRecord; after: ActionRecord; changed: boolean }> {
    return this.serial(id, async (redis) => {
      const key = this.k.action(id);
      for (let attempt = 0; attempt < 20; attempt++) {
        await redis.watch(key);
        const raw = await redis.get(key);
        if (!raw) {
          await redis.unwatch();
          throw new SheriffError('NOT_FOUND', `no action ${id}`);
        }
        const before = JSON.parse(raw) as ActionRecord;
        let after: ActionRecord | null;
        try {
          after = fn(structuredClone(before));
        } catch (err) {
          await redis.unwatch();
          throw err;
        }
        if (!after) {
          await redis.unwatch();
          return { before, after: before, changed: false };
        }
        if (after.state !== before.state && !canTransition(before.state, after.state)) {
          await redis.unwatch();
          throw new SheriffError('CONFLICT', `cannot go from ${before.state} to ${after.state}`, { details: { state: before.state } });
        }
        const m = redis.multi().set(key, JSON.stringify(after));
        if (after.state !== before.state) {
          const score = Date.parse(after.createdAt);
          m.zrem(this.k.state(before.state), id).zadd(this.k.state(after.state), score, id);
          const wasLive = liveStates.includes(before.state);
          const isLive = liveStates.includes(after.state);
          if (wasLive && !isLive) m.hdel(this.k.live, liveKeyOf(after));
          if (!wasLive && isLive) m.hset(this.k.live, liveKeyOf(after), id);
        }
        if (await m.exec()) return { before, after, changed: true };
      }
      throw new SheriffError('INTERNAL', 'ledger update: too much contention');
    });
  }

  /**
   * Read-modify-write of one record that keeps its state, so no index moves: one GET and one compare-and-set
   * script, no WATCH transaction and no lane. The decide path extends live actions with it once per alert.
   * WATCH transactions of `update` still see these writes (WATCH notices any write to the key).
   */
  async patch(id: string, fn: (r: ActionRecord) => ActionRecord | null, current?: string): Promise<{ before: ActionRecord; after: ActionRecord; changed: boolean }> {
    const key = this.k.action(id);
    let known = current;
    for (let attempt = 0; attempt < 50; attempt++) {
      const raw = known ?? await this.redis.get(key);
      known = undefined;
      if (!raw) throw new SheriffError('NOT_FOUND', `no action ${id}`);
      const before = JSON.parse(raw) as ActionRecord;
      const after = fn(JSON.parse(raw) as ActionRecord);
      if (!after) return { before, after: before, changed: false };
      if (after.state !== before.state) throw new SheriffError('INTERNAL', 'ledger patch cannot change the state; use update');
      const sha = createHash('sha1').update(raw).digest('hex');
      const res = Number(await CAS.run(this.redis, [key], [sha, JSON.stringify(after)]));
      if (res === 1) return { before, after, changed: true };
      if (res === -1) throw new SheriffError('NOT_FOUND', `no action ${id}`);
    }
    throw new SheriffError('INTERNAL', 'ledger patch: too much contention');
  }

  async list(f: ListFilter): Promise<{ items: ActionRecord[]; next: string | null }> {
    const index = f.device ? this.k.device(f.device) : f.state ? this.k.state(f.state) : this.k.all;
    // Newest first. Position = (score, id): members with the same score come in reverse id order, so "after
    // (s, id)" means a lower score, or the same score and a lower id. Stable while records are being added.
    let pos: { score: number; id: string } | null = null;
    if (f.cursor) {
      const m = /^(\d{1,16})_(a-[a-z0-9]{8,40})$/.exec(f.cursor);
      if (!m) throw new SheriffError('VALIDATION', 'invalid cursor');
      pos = { score: Number(m[1]), id: m[2] as string };
    }
    const min = f.since !== undefined ? String(f.since) : '-inf';
    const items: ActionRecord[] = [];
    let skip = 0; // only grows when 200+ members share one score (same millisecond) and are all behind us
    for (;;) {
      const max = pos ? String(pos.score) : '+inf';
      const batch = await this.redis.zrevrangebyscore(index, max, min, 'WITHSCORES', 'LIMIT', skip, 200);
      const ids: Array<{ id: string; score: number }> = [];
      for (let i = 0; i < batch.length; i += 2) {
        const id = batch[i] as string;
        const score = Number(batch[i + 1]);
        if (pos && score === pos.score && id >= pos.id) continue;
        ids.push({ id, score });
      }
      if (!ids.length) {
        if (batch.length < 400) return { items, next: null };
        skip += 200;
        continue;
      }
      skip = 0;
      const records = new Map((await this.getMany(ids.map((x) => x.id))).map((r) => [r.id, r]));
      for (const x of ids) {
        pos = x;
        const r = records.get(x.id);
        if (!r || (f.state && r.state !== f.state) || (f.action && r.action !== f.action)) continue;
        items.push(r);
        if (items.length >= f.limit) return { items, next: `${x.score}_${x.id}` };
      }
    }
  }

  async idsInState(state: ActionState): Promise<string[]> {
    return this.redis.zrange(this.k.state(state), 0, -1);
  }

  async countInState(state: ActionState): Promise<number> {
    return this.redis.zcard(this.k.state(state));
  }

  async autoCreatedSince(since: number): Promise<number> {
    return this.redis.zcount(this.k.autoCreated, since, '+inf');
  }

  async deviceHasLive(ip: string): Promise<boolean> {
    return Number(await DEVICE_LIVE.run(this.redis, [this.k.device(ip), this.k.state('active'), this.k.state('enforcing')], [])) === 1;
  }

  async getMode(): Promise<'passive' | 'active' | null> {
    const m = await this.redis.get(`${this.prefix}:mode`);
    return m === 'passive' || m === 'active' ? m : null;
  }

  async setMode(mode: 'passive' | 'active'): Promise<void> {
    await this.redis.set(`${this.prefix}:mode`, mode);
  }
}

export function setConnectorStatus(r: ActionRecord, status: ConnectorStatus): void {
  const i = r.connectors.findIndex((c) => c.name === status.name);
  if (i >= 0) r.connectors[i] = status;
  else r.connectors.push(status);
}
