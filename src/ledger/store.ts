// Action records in Redis: the record, indexes by state, device and time, and the live-action index for dedupe.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ActionRecord, type ActionState, type ConnectorStatus } from '../contracts/action.js';
import { SheriffError } from '../errors.js';
import { canTransition, liveStates } from './state-machine.js';
import { canonical } from './audit.js';

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
  /** WATCH transactions on one connection must not interleave: run them one at a time. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly redis: Redis, readonly prefix: string) {
    this.k = {
      action: (id) => `${prefix}:action:${id}`,
      all: `${prefix}:idx:all`,
      state: (s) => `${prefix}:idx:state:${s}`,
      device: (ip) => `${prefix}:idx:device:${ip}`,
      live: `${prefix}:idx:live`,
      autoCreated: `${prefix}:idx:auto-created`,
    };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
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

  /** The live action for (device, action, params), if any. */
  async findLive(key: string): Promise<string | null> {
    return this.redis.hget(this.k.live, key);
  }

  /** Creates a record; refuses (returns the existing id) when a live action has the same live key or the id exists. */
  async create(record: ActionRecord, opts: { auto: boolean }): Promise<{ created: boolean; id: string }> {
    ActionRecord.parse(record);
    const key = liveKeyOf(record);
    return this.serial(async () => {
      for (let attempt = 0; attempt < 20; attempt++) {
        await this.redis.watch(this.k.live, this.k.action(record.id));
        const existing = await this.redis.hget(this.k.live, key);
        if (existing) {
          await this.redis.unwatch();
          return { created: false, id: existing };
        }
        if (await this.redis.exists(this.k.action(record.id))) {
          // Same deterministic id: this request was already recorded (a re-run), whatever state it is in now.
          await this.redis.unwatch();
          return { created: false, id: record.id };
        }
        const at = Date.parse(record.createdAt);
        const m = this.redis.multi()
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
    return this.serial(async () => {
      const key = this.k.action(id);
      for (let attempt = 0; attempt < 20; attempt++) {
        await this.redis.watch(key);
        const raw = await this.redis.get(key);
        if (!raw) {
          await this.redis.unwatch();
          throw new SheriffError('NOT_FOUND', `no action ${id}`);
        }
        const before = JSON.parse(raw) as ActionRecord;
        let after: ActionRecord | null;
        try {
          after = fn(structuredClone(before));
        } catch (err) {
          await this.redis.unwatch();
          throw err;
        }
        if (!after) {
          await this.redis.unwatch();
          return { before, after: before, changed: false };
        }
        if (after.state !== before.state && !canTransition(before.state, after.state)) {
          await this.redis.unwatch();
          throw new SheriffError('CONFLICT', `cannot go from ${before.state} to ${after.state}`, { details: { state: before.state } });
        }
        const m = this.redis.multi().set(key, JSON.stringify(after));
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

  async list(f: ListFilter): Promise<{ items: ActionRecord[]; next: string | null }> {
    const index = f.device ? this.k.device(f.device) : f.state ? this.k.state(f.state) : this.k.all;
    // Newest first; the cursor is the score (createdAt ms) and id of the last item seen.
    let max = '+inf';
    let afterId: string | null = null;
    if (f.cursor) {
      const [score, id] = f.cursor.split('_');
      if (!score || !/^\d+$/.test(score)) throw new SheriffError('VALIDATION', 'invalid cursor');
      max = score;
      afterId = id ?? null;
    }
    const min = f.since !== undefined ? String(f.since) : '-inf';
    const items: ActionRecord[] = [];
    let offset = 0;
    let skipping = afterId !== null;
    for (;;) {
      const batch = await this.redis.zrevrangebyscore(index, max, min, 'WITHSCORES', 'LIMIT', offset, 200);
      if (!batch.length) return { items, next: null };
      offset += batch.length / 2;
      const ids: string[] = [];
      const scores = new Map<string, string>();
      for (let i = 0; i < batch.length; i += 2) {
        const id = batch[i] as string;
        if (skipping) {
          if (id === afterId) skipping = false;
          continue;
        }
        ids.push(id);
        scores.set(id, batch[i + 1] as string);
      }
      for (const r of await this.getMany(ids)) {
        if (f.state && r.state !== f.state) continue;
        if (f.action && r.action !== f.action) continue;
        items.push(r);
        if (items.length >= f.limit) return { items, next: `${scores.get(r.id)}_${r.id}` };
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
    const ids = await this.redis.zrevrange(this.k.device(ip), 0, 50);
    const records = await this.getMany(ids);
    return records.some((r) => r.state === 'active' || r.state === 'enforcing');
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
