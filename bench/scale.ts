// 100,000 active containments: controller RSS and reconcile time, against the raw reads and bytes they cannot avoid.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config.js';
import type { ActionRecord, Receipt } from '../src/contracts/action.js';
import { liveKeyOf } from '../src/ledger/store.js';
import { createLogger } from '../src/log.js';
import { startSheriff } from '../src/main.js';
import { dropPrefix } from '../test/helpers/redis.js';

const REDIS_URL = process.env.SHERIFF_BENCH_REDIS ?? 'redis://127.0.0.1:6379';

export interface ScaleResult {
  actions: number;
  idleRssMb: number;
  rssAfterReconcileMb: number;
  /** Bytes of the records and receipts as stored: what any controller holding them must at least read. */
  dataMb: number;
  reconcileMs: number;
  restored: number;
  removed: number;
  /** Floor: MGET of every record + HGETALL of the receipts + JSON.parse, from a plain client. */
  floorReadMs: number;
}

const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;

function gcAndRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

async function seed(redis: Redis, prefix: string, n: number, progress: (s: string) => void): Promise<number> {
  const now = Date.now();
  const expiresAt = now + 3_600_000;
  let bytes = 0;
  for (let i = 0; i < n; i += 5000) {
    const p = redis.pipeline();
    for (let k = i; k < Math.min(n, i + 5000); k++) {
      const id = `a-scale${String(k).padStart(8, '0')}`;
      const ip = `10.${100 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
      const params = { ports: [22, 2222, 2022] };
      const receipt: Receipt = {
        connector: 'dry', actionId: id, action: 'block-ssh-egress', key: `block-ssh-egress|${ip}|${id}`, status: 'enforced',
        detail: `would block-ssh-egress ${ip} ${JSON.stringify(params)}`, expiresAt, data: { params, device: ip },
      };
      const record: ActionRecord = {
        id, action: 'block-ssh-egress', params, target: { ip }, state: 'active', mode: 'auto', playbook: 'outlaw-ssh-spread',
        alertIds: [`darktrace-scale${k}`], reason: 'scale bench', ttlMs: 3_600_000, createdAt: new Date(now).toISOString(),
        enforcedAt: new Date(now).toISOString(), expiresAt: new Date(expiresAt).toISOString(),
        connectors: [{ name: 'dry', type: 'log', status: 'enforced', detail: receipt.detail, receipt }],
        history: [{ at: new Date(now).toISOString(), state: 'active', by: 'bench', note: 'seeded' }],
      };
      const json = JSON.stringify(record);
      const rjson = JSON.stringify(receipt);
      bytes += json.length + rjson.length;
      p.set(`${prefix}:action:${id}`, json)
        .zadd(`${prefix}:idx:all`, now, id).zadd(`${prefix}:idx:state:active`, now, id).zadd(`${prefix}:idx:device:${ip}`, now, id)
        .hset(`${prefix}:idx:live`, liveKeyOf(record), id)
        .hset(`${prefix}:log-connector:dry`, receipt.key, rjson);
    }
    await p.exec();
    if (i % 25_000 === 0) progress(`  seeded ${Math.min(n, i + 5000)}/${n} active actions`);
  }
  return bytes;
}

async function floorRead(redis: Redis, prefix: string): Promise<number> {
  const t = performance.now();
  const ids = await redis.zrange(`${prefix}:idx:state:active`, 0, -1);
  let parsed = 0;
  for (let i = 0; i < ids.length; i += 1000) {
    const raws = await redis.mget(...ids.slice(i, i + 1000).map((id) => `${prefix}:action:${id}`));
    for (const r of raws) if (r) parsed += JSON.parse(r) ? 1 : 0;
  }
  const receipts = await redis.hgetall(`${prefix}:log-connector:dry`);
  for (const v of Object.values(receipts)) parsed += JSON.parse(v) ? 1 : 0;
  if (!parsed) throw new Error('floor read found nothing');
  return performance.now() - t;
}

export async function benchScale(opts: { actions?: number; progress?: (s: string) => void } = {}): Promise<ScaleResult> {
  const n = opts.actions ?? 100_000;
  const progress = opts.progress ?? ((s: string) => console.log(s));
  const prefix = `{sheriff-bench-scale-${randomBytes(4).toString('hex')}}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const idle = gcAndRss(); // before seeding: the bench's own seeding garbage is not the controller's
  try {
    progress(`scale: seeding ${n} active actions (ledger + log connector receipts)`);
    const bytes = await seed(redis, prefix, n, progress);
    const floorReadMs = await floorRead(redis, prefix);
    const config = parseConfig({ mode: 'active', redis: REDIS_URL, redisPrefix: prefix, playbooks: './playbooks', connectors: { dry: { type: 'log' } }, reconcile: { interval: '1h' } });
    const sheriff = await startSheriff({ config, role: 'worker', log: createLogger({ level: 'silent' }), reconcileOnStart: false });
    try {
      await sheriff.ready();
      progress(`scale: reconcile over ${n} entries`);
      const t = performance.now();
      const reports = await sheriff.reconciler.run('bench');
      const reconcileMs = performance.now() - t;
      const after = process.memoryUsage().rss;
      const report = reports?.[0];
      return {
        actions: n, idleRssMb: mb(idle), rssAfterReconcileMb: mb(after), dataMb: mb(bytes), reconcileMs, floorReadMs,
        restored: report?.restored.length ?? -1, removed: report?.removed.length ?? -1,
      };
    } finally {
      await sheriff.close();
    }
  } finally {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  }
}

export function printScale(r: ScaleResult): void {
  console.log(`scale (${r.actions} active actions in the ledger, log connector holding ${r.actions} receipts)`);
  console.log(`  reconcile                 ${r.reconcileMs.toFixed(0)} ms (restored ${r.restored}, removed ${r.removed}; both must be 0)`);
  console.log(`  floor: raw read + parse   ${r.floorReadMs.toFixed(0)} ms   ratio ${(r.reconcileMs / r.floorReadMs).toFixed(2)}`);
  console.log(`  process RSS before       ${r.idleRssMb} MB; after reconcile (sheriff running) ${r.rssAfterReconcileMb} MB`);
  console.log(`  floor: the data itself    ${r.dataMb} MB of JSON   ratio (RSS growth / data) ${((r.rssAfterReconcileMb - r.idleRssMb) / r.dataMb).toFixed(2)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printScale(await benchScale({ actions: Number(process.env.SCALE_ACTIONS ?? 100_000) }));
  process.exit(0);
}
