// Alert-POST-to-kernel latency: POST /v1/alerts/generic until the entry is in the gateway namespace's ipset, vs. one `ipset add` exec.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startSheriff } from '../src/main.js';
import { dropPrefix } from '../test/helpers/redis.js';

const REDIS_URL = process.env.SHERIFF_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const TOKEN = randomBytes(16).toString('hex');

export interface LatencyResult {
  alerts: number;
  p50Ms: number;
  p99Ms: number;
  floorMs: number;
  /** One `ipset test` exec: the resolution of the poll. */
  pollMs: number;
}

const PLAYBOOK = `name: bench-ssh
description: "Latency bench: any generic bench-ssh alert blocks SSH egress at once."
match:
  source: [generic]
  name: "bench ssh"
respond:
  - action: block-ssh-egress
    ttl: 1h
    approval: auto
`;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function inSet(ns: string, set: string, element: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', ns, 'ipset', 'test', set, element], (err) => resolve(!err));
  });
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
}

/** Null with the reason printed when the bench cannot run here. */
export async function benchLatency(opts: { alerts?: number; progress?: (s: string) => void } = {}): Promise<LatencyResult | null> {
  const n = opts.alerts ?? 200;
  const progress = opts.progress ?? ((s: string) => console.log(s));
  if (process.getuid?.() !== 0 || spawnSync('ipset', ['version']).error || spawnSync('iptables', ['--version']).error) {
    progress('latency: skipped: needs root with ipset and iptables');
    return null;
  }
  const id = randomBytes(3).toString('hex');
  const ns = `sh-${id}-lat`;
  const setPrefix = `lat${id}`;
  const prefix = `{sheriff-bench-lat-${id}}`;
  const dir = mkdtempSync(join(tmpdir(), 'sheriff-bench-lat-'));
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    writeFileSync(join(dir, 'bench.yaml'), PLAYBOOK);
    execFileSync('ip', ['netns', 'exec', ns, 'ipset', 'create', 'floor', 'hash:ip,port']);
    const floors: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t = performance.now();
      execFileSync('ip', ['netns', 'exec', ns, 'ipset', 'add', 'floor', `10.250.0.${i + 1},tcp:22`]);
      floors.push(performance.now() - t);
    }
    const polls: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t = performance.now();
      await inSet(ns, 'floor', '10.250.0.1,tcp:22');
      polls.push(performance.now() - t);
    }
    const config = parseConfig({
      mode: 'active', redis: REDIS_URL, redisPrefix: prefix, listen: '127.0.0.1:0', playbooks: dir,
      sources: { generic: { token: TOKEN } },
      limits: { maxNewPerHour: 100_000, maxActive: 100_000 },
      connectors: { edge: { type: 'iptables', netns: ns, prefix: setPrefix, ipv6: false, scope: ['10.0.0.0/8'] } },
      reconcile: { interval: '1h' },
    });
    const sheriff = await startSheriff({ config, role: 'all', log: createLogger({ level: 'silent' }), reconcileOnStart: false });
    try {
      await sheriff.ready();
      await sheriff.registry.startAll(() => undefined);
      await sheriff.app!.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(sheriff.app!.server.address() as { port: number }).port}/v1/alerts/generic`;
      progress(`latency: ${n} alerts, POST → entry in ${setPrefix}-ssh4 (netns ${ns})`);
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const ip = `10.60.${i >> 8}.${(i & 255) + 1}`;
        const t = performance.now();
        const res = await fetch(url, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ id: `lat-${id}-${i}`, name: 'bench ssh', score: 0.9, device: { ip }, peer: { ip: '203.0.113.9', port: 22 } }),
        });
        if (res.status !== 202) throw new Error(`POST answered ${res.status}: ${await res.text()}`);
        const deadline = Date.now() + 10_000;
        while (!(await inSet(ns, `${setPrefix}-ssh4`, `${ip},tcp:22`))) {
          if (Date.now() > deadline) throw new Error(`${ip} not in the kernel set after 10 s`);
        }
        times.push(performance.now() - t);
        if ((i + 1) % 50 === 0) progress(`  ${i + 1}/${n}`);
      }
      times.sort((a, b) => a - b);
      return { alerts: n, p50Ms: pct(times, 50), p99Ms: pct(times, 99), floorMs: median(floors), pollMs: median(polls) };
    } finally {
      await sheriff.close();
    }
  } finally {
    spawnSync('ip', ['netns', 'del', ns]); // the sets and chain live in the namespace and go with it
    rmSync(dir, { recursive: true, force: true });
    await dropPrefix(redis, prefix);
    redis.disconnect();
  }
}

export function printLatency(r: LatencyResult): void {
  console.log(`alert → kernel (${r.alerts} alerts, POST /v1/alerts/generic → entry in the ipset, polled with \`ipset test\`)`);
  console.log(`  p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms (poll resolution ≈ ${r.pollMs.toFixed(1)} ms)`);
  console.log(`  floor: one \`ipset add\` exec   ${r.floorMs.toFixed(1)} ms   ratio p50/floor ${(r.p50Ms / r.floorMs).toFixed(2)}, p99/floor ${(r.p99Ms / r.floorMs).toFixed(2)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchLatency({ alerts: Number(process.env.LATENCY_ALERTS ?? 200) });
  if (r) printLatency(r);
  process.exit(0);
}
