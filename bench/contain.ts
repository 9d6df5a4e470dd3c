// Benchmark: containing the 100,000th device costs what the first did; list() of 100k; against one `ipset add` exec.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { iptablesConnector } from '../connectors/iptables/index.js';
import type { EnforcementStep } from '../src/contracts/action.js';
import type { Connector } from '../src/contracts/connector.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

export interface ContainBench {
  devices: number;
  floorAddMs: number;
  /** The same exec after the bulk load: spawning from a bigger process costs more, whatever the set size. */
  floorAfterMs: number;
  applyFirstMs: number;
  applyManyMs: number;
  /** Single apply right after the bulk load, while the kernel still works on the grown set. */
  applyRightAfterMs: number;
  /** Single apply 5 s later: the steady state, to compare with applyFirstMs. */
  applyAfterMs: number;
  listMs: number;
  listed: number;
}

function deviceIp(i: number): string {
  return `10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

function step(i: number): EnforcementStep {
  return { actionId: `a-bench${String(i).padStart(8, '0')}`, action: 'block-ssh-egress', device: { ip: deviceIp(i) }, expiresAt: Date.now() + 3_600_000, params: { ports: [22, 2222, 2022] } };
}

async function median(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)] as number;
}

/**
 * Runs `fn` with a started iptables connector inside a throw-away network namespace (removed afterwards).
 * The lead's alert-POST-to-kernel latency bench can reuse this to get a real enforcement point.
 */
export async function withBenchConnector<T>(fn: (c: Connector, netns: string) => Promise<T>): Promise<T | null> {
  if (process.getuid?.() !== 0 || spawnSync('ipset', ['version']).error) return null;
  const ns = `sh-${randomBytes(3).toString('hex')}-bench`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const c = iptablesConnector.create('bench', iptablesConnector.optionsSchema.parse({ netns: ns, prefix: 'bench', ipv6: false }), { log: silent });
    await c.start();
    return await fn(c, ns);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

export async function benchContain(devices = 100_000): Promise<ContainBench | null> {
  const result = await withBenchConnector(async (c, ns) => {
    execFileSync('ip', ['netns', 'exec', ns, 'ipset', 'create', 'floor', 'hash:ip,port']);
    const floorAddMs = await median(7, async (i) => { execFileSync('ip', ['netns', 'exec', ns, 'ipset', 'add', 'floor', `10.250.0.${i + 1},tcp:22`]); });
    const applyFirstMs = await median(7, (i) => c.apply(step(devices + 10 + i)));
    let t = performance.now();
    await c.applyMany!(Array.from({ length: devices }, (_, i) => step(i)));
    const applyManyMs = performance.now() - t;
    // Spawning a child costs more from a bigger heap; let the bulk batch's garbage go before timing one apply.
    (globalThis as { gc?: () => void }).gc?.();
    const applyRightAfterMs = await median(7, (i) => c.apply(step(devices + 100 + i)));
    // Right after a bulk load the kernel is still busy with the grown hash (resize, RCU frees): measure again once settled.
    await new Promise((res) => setTimeout(res, 5000));
    const applyAfterMs = await median(7, (i) => c.apply(step(devices + 200 + i)));
    const floorAfterMs = await median(7, async (i) => { execFileSync('ip', ['netns', 'exec', ns, 'ipset', 'add', 'floor', `10.250.1.${i + 1},tcp:22`]); });
    t = performance.now();
    const listed = (await c.list()).length;
    const listMs = performance.now() - t;
    return { devices, floorAddMs, floorAfterMs, applyFirstMs, applyManyMs, applyRightAfterMs, applyAfterMs, listMs, listed };
  });
  if (!result) {
    console.log('contain bench: skipped: not root / no ipset');
    return null;
  }
  const f = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(`contain bench (block-ssh-egress, 3 ports per device, ${result.devices} devices in one netns)`);
  console.log(`  floor: one \`ipset add\` exec (via ip netns exec)   ${f(result.floorAddMs)}`);
  console.log(`  apply #1 (median of 7)                            ${f(result.applyFirstMs)}  = ${(result.applyFirstMs / result.floorAddMs).toFixed(2)}× floor`);
  console.log(`  applyMany ${result.devices} (one ipset restore)         ${f(result.applyManyMs)}  = ${(result.applyManyMs / result.devices * 1000).toFixed(1)} µs per device`);
  console.log(`  apply right after the bulk load (median of 7)     ${f(result.applyRightAfterMs)}  = ${(result.applyRightAfterMs / result.applyFirstMs).toFixed(2)}× apply #1 (kernel still settling)`);
  console.log(`  apply #${result.devices + 1}, 5 s later (median of 7)         ${f(result.applyAfterMs)}  = ${(result.applyAfterMs / result.applyFirstMs).toFixed(2)}× apply #1 (flat ≈ 1)`);
  console.log(`  floor again after the bulk load                    ${f(result.floorAfterMs)}  = ${(result.floorAfterMs / result.floorAddMs).toFixed(2)}× floor (process-size effect)`);
  console.log(`  list() of ${result.listed} receipts                      ${f(result.listMs)}  = ${(result.listMs / result.floorAddMs).toFixed(1)}× floor`);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchContain(Number(process.env.BENCH_DEVICES ?? 100_000));
}
