// A reusable network lab: gateway, two LAN devices and an "internet" namespace, all created per run and removed after.
//
//   dev1 10.77.1.2  ─┐                                       ┌ ext: 198.51.100.10, 198.51.100.20,
//   dev2 10.77.1.3  ─┴ br0 10.77.1.1 [gw] v-ext 100.64.77.1 ─┤      203.0.113.7, 203.0.113.8 (+ v6 2001:db8:…)
//   (fd00:77:1::2/::3)   (fd00:77:1::1, ip_forward=1)        └ listeners on 22, 80, 443, 2022, 2222 (echo)
//
// Traffic only ever goes between these namespaces. Usage:
//   const lab = await createLab();            // throws LabUnavailable when not root / tools missing
//   await lab.tryConnect('dev1', lab.ext.a, 22, 1500)  → 'connected' | 'refused' | 'timeout' | 'unreachable' | 'error:…'
//   const held = await lab.holdConnection('dev1', lab.ext.a, 443); await held.echo(1000) → 'ok' | 'closed' | 'timeout'
//   await lab.exec('gw', 'ipset', ['list'])   // any command inside a lab namespace
//   await lab.destroy()                       // in `after`/`finally`: kills agents, deletes namespaces
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { NetnsAgent } from './netns-agent.js';

export type LabNode = 'gw' | 'dev1' | 'dev2' | 'ext';
export type ConnectResult = 'connected' | 'refused' | 'timeout' | 'unreachable' | `error:${string}`;
export const LAB_PORTS = [22, 80, 443, 2022, 2222] as const;

export interface HeldConnection {
  /** Sends a token and waits for its echo: 'ok' while the connection lives. */
  echo(timeoutMs?: number): Promise<'ok' | 'closed' | 'timeout'>;
  close(): Promise<void>;
}

export class LabUnavailable extends Error {}

const labNameRe = /^sh-[0-9a-f]{6}-(gw|dev1|dev2|ext)$/;

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? Number((err as { code?: number }).code) : 127) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function must(file: string, args: string[]): Promise<string> {
  const r = await run(file, args);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Why the lab cannot run here (not root, missing tools), or null when it can. */
export function labUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'not root (the lab needs CAP_NET_ADMIN to create network namespaces)';
  for (const [bin, arg] of [['ip', '-V'], ['ipset', 'version'], ['iptables', '--version'], ['iptables-restore', '--version']] as const) {
    const r = spawnSync(bin, [arg], { encoding: 'utf8' });
    if (r.error) return `${bin} is missing (apt-get install -y iptables ipset iproute2)`;
  }
  return null;
}

/** Removes lab namespaces (sh-XXXXXX-gw|dev1|dev2|ext) left by runs that died more than `olderThanMs` ago. */
export async function sweepStaleLabs(olderThanMs = 2 * 3_600_000): Promise<string[]> {
  let names: string[];
  try { names = readdirSync('/run/netns'); } catch { return []; }
  const removed: string[] = [];
  for (const n of names.filter((x) => labNameRe.test(x))) {
    try {
      if (Date.now() - statSync(`/run/netns/${n}`).mtimeMs < olderThanMs) continue;
    } catch { continue; }
    if ((await run('ip', ['netns', 'del', n])).code === 0) removed.push(n);
  }
  return removed;
}

export interface Lab {
  id: string;
  /** Namespace names, e.g. ns.gw = 'sh-1a2b3c-gw'. */
  ns: Record<LabNode, string>;
  ipv6: boolean;
  dev: { dev1: string; dev2: string; dev1v6: string; dev2v6: string };
  lanCidr: string;
  /** External hosts (in the ext namespace): a, b on 198.51.100.0/24, c, d on 203.0.113.0/24; v6 on 2001:db8::/32. */
  ext: { a: string; b: string; c: string; d: string; a6: string; c6: string };
  exec(node: LabNode, file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  tryConnect(node: LabNode, ip: string, port: number, timeoutMs?: number): Promise<ConnectResult>;
  holdConnection(node: LabNode, ip: string, port: number, timeoutMs?: number): Promise<HeldConnection>;
  destroy(): Promise<void>;
}

/** Builds the lab; on any failure it removes what it made and rethrows. */
export async function createLab(opts: { ipv6?: boolean } = {}): Promise<Lab> {
  const reason = labUnavailableReason();
  if (reason) throw new LabUnavailable(reason);
  const id = randomBytes(3).toString('hex');
  const ns = { gw: `sh-${id}-gw`, dev1: `sh-${id}-dev1`, dev2: `sh-${id}-dev2`, ext: `sh-${id}-ext` };
  const agents = new Map<LabNode, NetnsAgent>();
  const created: string[] = [];
  const destroy = async () => {
    for (const a of agents.values()) await a.stop();
    agents.clear();
    for (const n of created.splice(0)) await run('ip', ['netns', 'del', n]);
  };
  const ip = (node: LabNode, ...args: string[]) => must('ip', ['-n', ns[node], ...args]);
  const sysctl = (node: LabNode, kv: string) => must('ip', ['netns', 'exec', ns[node], 'sysctl', '-q', '-w', kv]);
  let ipv6 = opts.ipv6 ?? true;
  try {
    for (const node of ['gw', 'dev1', 'dev2', 'ext'] as LabNode[]) {
      await must('ip', ['netns', 'add', ns[node]]);
      created.push(ns[node]);
      await ip(node, 'link', 'set', 'lo', 'up');
    }
    await ip('gw', 'link', 'add', 'br0', 'type', 'bridge');
    for (const d of ['dev1', 'dev2'] as const) {
      await ip('gw', 'link', 'add', `v-${d}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns[d]);
      await ip('gw', 'link', 'set', `v-${d}`, 'master', 'br0', 'up');
      await ip(d, 'link', 'set', 'eth0', 'up');
    }
    await ip('gw', 'link', 'add', 'v-ext', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.ext);
    await ip('gw', 'addr', 'add', '10.77.1.1/24', 'dev', 'br0');
    await ip('gw', 'link', 'set', 'br0', 'up');
    await ip('gw', 'addr', 'add', '100.64.77.1/30', 'dev', 'v-ext');
    await ip('gw', 'link', 'set', 'v-ext', 'up');
    await ip('dev1', 'addr', 'add', '10.77.1.2/24', 'dev', 'eth0');
    await ip('dev2', 'addr', 'add', '10.77.1.3/24', 'dev', 'eth0');
    for (const d of ['dev1', 'dev2'] as const) await ip(d, 'route', 'add', 'default', 'via', '10.77.1.1');
    await ip('ext', 'link', 'set', 'eth0', 'up');
    await ip('ext', 'addr', 'add', '100.64.77.2/30', 'dev', 'eth0');
    for (const a of ['198.51.100.10', '198.51.100.20', '203.0.113.7', '203.0.113.8']) await ip('ext', 'addr', 'add', `${a}/32`, 'dev', 'eth0');
    await ip('ext', 'route', 'add', '10.77.1.0/24', 'via', '100.64.77.1');
    await ip('gw', 'route', 'add', '198.51.100.0/24', 'via', '100.64.77.2');
    await ip('gw', 'route', 'add', '203.0.113.0/24', 'via', '100.64.77.2');
    await sysctl('gw', 'net.ipv4.ip_forward=1');
    if (ipv6) {
      try {
        await ip('gw', 'addr', 'add', 'fd00:77:1::1/64', 'dev', 'br0', 'nodad');
        await ip('gw', 'addr', 'add', 'fd00:77:ff::1/64', 'dev', 'v-ext', 'nodad');
        await ip('dev1', 'addr', 'add', 'fd00:77:1::2/64', 'dev', 'eth0', 'nodad');
        await ip('dev2', 'addr', 'add', 'fd00:77:1::3/64', 'dev', 'eth0', 'nodad');
        for (const d of ['dev1', 'dev2'] as const) await ip(d, '-6', 'route', 'add', 'default', 'via', 'fd00:77:1::1');
        await ip('ext', 'addr', 'add', 'fd00:77:ff::2/64', 'dev', 'eth0', 'nodad');
        for (const a of ['2001:db8:51::10', '2001:db8:113::7']) await ip('ext', 'addr', 'add', `${a}/128`, 'dev', 'eth0', 'nodad');
        await ip('ext', '-6', 'route', 'add', 'fd00:77:1::/64', 'via', 'fd00:77:ff::1');
        await ip('gw', '-6', 'route', 'add', '2001:db8::/32', 'via', 'fd00:77:ff::2');
        await sysctl('gw', 'net.ipv6.conf.all.forwarding=1');
      } catch {
        ipv6 = false; // kernel without IPv6: the v4 lab still works
      }
    }
    for (const node of ['dev1', 'dev2', 'ext'] as LabNode[]) agents.set(node, new NetnsAgent(ns[node]));
    const listening = await (agents.get('ext') as NetnsAgent).request({ op: 'listen', ports: LAB_PORTS, host: ipv6 ? '::' : '0.0.0.0' });
    if (listening.result !== 'listening') throw new Error(`lab listeners failed: ${listening.error ?? '?'}`);
  } catch (err) {
    await destroy();
    throw err;
  }
  const agent = (node: LabNode): NetnsAgent => {
    let a = agents.get(node);
    if (!a) { a = new NetnsAgent(ns[node]); agents.set(node, a); }
    return a;
  };
  return {
    id,
    ns,
    ipv6,
    dev: { dev1: '10.77.1.2', dev2: '10.77.1.3', dev1v6: 'fd00:77:1::2', dev2v6: 'fd00:77:1::3' },
    lanCidr: '10.77.1.0/24',
    ext: { a: '198.51.100.10', b: '198.51.100.20', c: '203.0.113.7', d: '203.0.113.8', a6: '2001:db8:51::10', c6: '2001:db8:113::7' },
    exec: (node, file, args) => run('ip', ['netns', 'exec', ns[node], file, ...args]),
    tryConnect: async (node, host, port, timeoutMs = 1500) => {
      const r = await agent(node).request({ op: 'connect', ip: host, port, timeoutMs });
      return (r.result ?? `error:${r.error ?? 'no reply'}`) as ConnectResult;
    },
    holdConnection: async (node, host, port, timeoutMs = 1500) => {
      const a = agent(node);
      const r = await a.request({ op: 'hold', ip: host, port, timeoutMs });
      if (r.result !== 'connected' || r.handle === undefined) throw new Error(`holdConnection ${host}:${port} from ${node}: ${r.result ?? r.error}`);
      const handle = r.handle;
      return {
        echo: async (ms = 1000) => (await a.request({ op: 'echo', handle, timeoutMs: ms })).result as 'ok' | 'closed' | 'timeout',
        close: async () => { await a.request({ op: 'close', handle }); },
      };
    },
    destroy,
  };
}
