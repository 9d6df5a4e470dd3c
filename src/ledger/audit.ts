// Append-only, hash-chained audit log in Redis: each entry carries the previous entry's hash.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';

export const AuditEntry = z.object({
  seq: z.number().int().min(1),
  at: z.string(),
  type: z.string(),
  by: z.string(),
  actionId: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
  prev: z.string(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
export type AuditInput = Pick<AuditEntry, 'type' | 'by'> & {
  actionId?: string;
  data?: Record<string, unknown>;
  /** Append only if no entry with this key was appended before (a job re-run after a crash must not log twice). */
  once?: string;
};

/** How long a `once` key is remembered: far beyond any job re-run (stall, retry back-off), like ingest's dedupe window. */
const ONCE_TTL_MS = 86_400_000;

const GENESIS = '0'.repeat(64);

/** JSON with sorted keys, so the hash does not depend on key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  const { prev, ...body } = e;
  return createHash('sha256').update(prev).update('\n').update(canonical(body)).digest('hex');
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  problems: Array<{ seq: number | null; index: number; problem: string }>;
}

export class AuditLog {
  private readonly listKey: string;
  private readonly headKey: string;
  private readonly onceBase: string;

  constructor(private readonly redis: Redis, prefix: string) {
    this.listKey = `${prefix}:audit`;
    this.headKey = `${prefix}:audit:head`;
    this.onceBase = `${prefix}:audit:once:`;
  }

  private pending: Array<{ inputs: AuditInput[]; resolve: (e: AuditEntry[]) => void; reject: (err: unknown) => void }> = [];
  private flushing: Promise<void> | null = null;

  /**
   * Appends entries in order. Concurrent callers in this process are group-committed in one
   * transaction (WATCH on the head guards against other processes), so the chain stays linear.
   */
  append(inputs: AuditInput[]): Promise<AuditEntry[]> {
    if (!inputs.length) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ inputs, resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0, 500);
      try {
        const entries = await this.commit(batch.flatMap((b) => b.inputs));
        let i = 0;
        for (const b of batch) {
          b.resolve(entries.slice(i, i + b.inputs.length).filter((e): e is AuditEntry => e !== null));
          i += b.inputs.length;
        }
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.flushing = null;
  }

  /** One entry per input, null where a `once` key was already used. */
  private async commit(inputs: AuditInput[]): Promise<Array<AuditEntry | null>> {
    const onceKeys = [...new Set(inputs.flatMap((i) => (i.once ? [this.onceBase + i.once] : [])))];
    for (let attempt = 0; attempt < 50; attempt++) {
      await this.redis.watch(this.headKey, ...onceKeys);
      const headRaw = await this.redis.get(this.headKey);
      const head = headRaw ? (JSON.parse(headRaw) as { seq: number; hash: string }) : { seq: 0, hash: GENESIS };
      const seen = onceKeys.length ? await this.redis.mget(...onceKeys) : [];
      const used = new Set(onceKeys.filter((_k, n) => seen[n] !== null && seen[n] !== undefined));
      const at = new Date().toISOString();
      let prev = head.hash;
      let seq = head.seq;
      const entries = inputs.map((i) => {
        if (i.once) {
          if (used.has(this.onceBase + i.once)) return null;
          used.add(this.onceBase + i.once);
        }
        seq += 1;
        const body = { seq, at, type: i.type, by: i.by, ...(i.actionId ? { actionId: i.actionId } : {}), data: i.data ?? {}, prev };
        const e: AuditEntry = { ...body, hash: entryHash(body) };
        prev = e.hash;
        return e;
      });
      const kept = entries.filter((e): e is AuditEntry => e !== null);
      if (!kept.length) {
        await this.redis.unwatch();
        return entries;
      }
      const m = this.redis.multi()
        .rpush(this.listKey, ...kept.map((e) => JSON.stringify(e)))
        .set(this.headKey, JSON.stringify({ seq, hash: prev }));
      for (const i of inputs) if (i.once) m.set(this.onceBase + i.once, '1', 'PX', ONCE_TTL_MS);
      const res = await m.exec();
      if (res) return entries;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
    }
    throw new Error('audit append: too much contention on the audit head');
  }

  async list(opts: { since?: number; limit: number; cursor?: number; actionId?: string; type?: string }): Promise<{ items: AuditEntry[]; next: string | null }> {
    const total = await this.redis.llen(this.listKey);
    // Newest first: the cursor is how many entries from the end have been seen.
    let end = total - 1 - (opts.cursor ?? 0);
    const items: AuditEntry[] = [];
    while (end >= 0 && items.length < opts.limit) {
      const start = Math.max(0, end - 499);
      const chunk = (await this.redis.lrange(this.listKey, start, end)).reverse();
      for (const [i, raw] of chunk.entries()) {
        const e = JSON.parse(raw) as AuditEntry;
        if (opts.since !== undefined && Date.parse(e.at) < opts.since) return { items, next: null };
        if ((!opts.actionId || e.actionId === opts.actionId) && (!opts.type || e.type === opts.type)) items.push(e);
        if (items.length >= opts.limit) {
          const seen = total - (end - i);
          return { items, next: seen < total ? String(seen) : null };
        }
      }
      end = start - 1;
    }
    return { items, next: null };
  }

  /** Recomputes the chain: an edited, removed, inserted or reordered entry breaks it. */
  async verify(): Promise<VerifyResult> {
    const problems: VerifyResult['problems'] = [];
    const headRaw = await this.redis.get(this.headKey);
    const total = await this.redis.llen(this.listKey);
    let prev = GENESIS;
    let expectSeq = 1;
    for (let start = 0; start < total; start += 1000) {
      const chunk = await this.redis.lrange(this.listKey, start, start + 999);
      for (const [i, raw] of chunk.entries()) {
        const index = start + i;
        const parsed = AuditEntry.safeParse(safeJson(raw));
        if (!parsed.success) {
          problems.push({ seq: null, index, problem: 'entry is not a valid audit record' });
          continue;
        }
        const e = parsed.data;
        if (e.seq !== expectSeq) problems.push({ seq: e.seq, index, problem: `expected seq ${expectSeq}, found ${e.seq} (entry removed, inserted or reordered)` });
        if (e.prev !== prev) problems.push({ seq: e.seq, index, problem: 'prev hash does not match the previous entry (chain broken)' });
        const { hash, ...body } = e;
        if (entryHash(body) !== hash) problems.push({ seq: e.seq, index, problem: 'content does not match its hash (entry edited)' });
        prev = hash;
        expectSeq = e.seq + 1;
      }
    }
    if (headRaw) {
      const head = JSON.parse(headRaw) as { seq: number; hash: string };
      if (head.seq !== expectSeq - 1 || head.hash !== prev) problems.push({ seq: head.seq, index: total, problem: `the log ends at seq ${expectSeq - 1} but the head says ${head.seq} (entries removed from the end)` });
    } else if (total > 0) {
      problems.push({ seq: null, index: 0, problem: 'audit head is missing' });
    }
    return { ok: problems.length === 0, entries: total, problems };
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}
