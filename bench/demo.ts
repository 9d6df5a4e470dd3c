// `npm run demo`: the Outlaw breach replayed against a real sheriff — in a namespace lab with iptables when root, else the log connector.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startSheriff, type Sheriff } from '../src/main.js';
import { createLab, labUnavailableReason, type Lab } from '../test/helpers/netns.js';
import { dropPrefix } from '../test/helpers/redis.js';

const REDIS_URL = process.env.SHERIFF_DEMO_REDIS ?? 'redis://127.0.0.1:6379';
const want = process.env.SHERIFF_DEMO_MODE; // 'log' | 'lab' | unset (lab when possible)
const ADMIN = `demo-admin-${randomBytes(12).toString('hex')}`;
const DETECTOR = `demo-darktrace-${randomBytes(12).toString('hex')}`;
const prefix = `{sheriff-demo-${randomBytes(4).toString('hex')}}`;

let failures = 0;
const ok = (what: string) => console.log(`   ✓ ${what}`);
const bad = (what: string) => { failures++; console.log(`   ✗ ${what}`); };
const check = (cond: boolean, what: string, why = '') => (cond ? ok(what) : bad(`${what}${why ? ` — ${why}` : ''}`));
let stepNo = 0;
const step = (title: string) => console.log(`\n${++stepNo}. ${title}`);

interface ActionJson { id: string; action: string; state: string; reason: string; params: Record<string, unknown> }

let lab: Lab | null = null;
let sheriff: Sheriff | null = null;
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await sheriff?.close().catch(() => undefined);
  await lab?.destroy().catch(() => undefined);
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  await dropPrefix(r, prefix).catch(() => undefined);
  r.disconnect();
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.log(`\n${sig}: cleaning up the lab and the demo's Redis keys…`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function redisUp(): Promise<boolean> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

async function main(): Promise<void> {
  console.log('sheriff demo: the Outlaw botnet wakes up on a server; sheriff contains that one device.\n');
  step(`Redis at ${REDIS_URL}`);
  if (!(await redisUp())) {
    bad(`Redis is not reachable at ${REDIS_URL}: start it (redis-server --daemonize yes, or docker run -p 6379:6379 redis:7) or set SHERIFF_DEMO_REDIS`);
    return;
  }
  ok('Redis answers');

  const reason = want === 'log' ? 'SHERIFF_DEMO_MODE=log' : labUnavailableReason();
  if (want === 'lab' && reason) { bad(`lab mode asked for, but: ${reason}`); return; }
  step(reason ? `Enforcement: the log connector (no lab: ${reason})` : 'Enforcement: iptables + ipset on a gateway namespace');
  if (!reason) {
    lab = await createLab({ ipv6: false });
    ok(`lab ${lab.id}: infected ${lab.dev.dev1} and neighbour ${lab.dev.dev2} behind gateway ${lab.ns.gw}; external hosts ${lab.ext.a}, ${lab.ext.c}, ${lab.ext.d}`);
  } else {
    ok('containment is recorded in Redis, nothing on the network is touched');
  }
  const infected = lab?.dev.dev1 ?? '10.77.1.2';
  const ext = lab?.ext ?? { a: '198.51.100.10', c: '203.0.113.7', d: '203.0.113.8' };

  step('Start sheriff (active mode) on 127.0.0.1');
  const config = parseConfig({
    mode: 'active', redis: REDIS_URL, redisPrefix: prefix, listen: '127.0.0.1:0', playbooks: './playbooks',
    auth: { tokens: [{ name: 'demo-admin', role: 'admin', token: ADMIN }] },
    sources: { darktrace: { token: DETECTOR } },
    connectors: lab
      ? { edge: { type: 'iptables', netns: lab.ns.gw, prefix: `demo${lab.id}`, ipv6: false, scope: [lab.lanCidr] } }
      : { dry: { type: 'log' } },
    reconcile: { interval: '1h' },
  });
  sheriff = await startSheriff({ config, role: 'all', log: createLogger({ level: process.env.SHERIFF_DEMO_LOG ?? 'silent' }), reconcileOnStart: false });
  await sheriff.ready();
  await sheriff.registry.startAll((name, err) => bad(`connector ${name} failed to start: ${(err as Error).message}`));
  await sheriff.app!.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(sheriff.app!.server.address() as { port: number }).port}`;
  ok(`listening on ${base}`);
  console.log(`     try it:  SHERIFF_URL=${base} SHERIFF_TOKEN=${ADMIN} npx sheriff actions list`);

  const api = async (method: string, path: string, body?: unknown, token = ADMIN) => {
    const res = await fetch(`${base}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- demo output reads a few fields
  };
  const actions = async (): Promise<ActionJson[]> => (await api('GET', `/v1/actions?device=${infected}`)).json.items as ActionJson[];
  /** Waits until `want` holds for the device's actions (enforcement is asynchronous: queue → worker → connector). */
  const until = async (want: (a: ActionJson[]) => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    let last: ActionJson[] = [];
    while (Date.now() < end) {
      last = await actions();
      if (want(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    return last;
  };
  const find = (list: ActionJson[], action: string) => list.find((a) => a.action === action);
  const reach = async (node: 'dev1' | 'dev2', ip: string, port: number, expect: 'open' | 'blocked', label: string) => {
    if (!lab) return;
    const r = await lab.tryConnect(node, ip, port, 1200);
    const open = r === 'connected';
    check(expect === 'open' ? open : r === 'refused' || r === 'timeout', `${label}: ${node === 'dev1' ? 'infected' : 'neighbour'} → ${ip}:${port} ${open ? 'connects' : `is blocked (${r})`}`);
  };
  let pbid = 31_000 + Math.floor(Math.random() * 1000) * 100;
  const breach = async (modelName: string, score: number, destIP: string, destPort: number) => {
    const body = { modelName, score, pbid: ++pbid, breachTime: Date.now(), deviceIp: infected, deviceHostname: 'build-03', destIP, destPort };
    const res = await api('POST', '/v1/alerts/darktrace', body, DETECTOR);
    check(res.status === 202, `Darktrace breach "${modelName}" (score ${score}) accepted`, `HTTP ${res.status}`);
    // The decision is asynchronous (alerts queue → decide): wait for its audit entry, then say what matched and why not.
    const id = res.json.ids?.[0] as string | undefined;
    for (let i = 0; i < 100; i++) {
      const entries = (await api('GET', '/v1/audit?type=alert.accepted&limit=20')).json.items as Array<{ data: { alertId: string; matched: string[]; skipped: string[] } }>;
      const e = entries.find((x) => x.data.alertId === id) ?? (id ? undefined : entries[0]);
      if (e) {
        console.log(`     decided: playbooks matched [${e.data.matched.join(', ') || 'none'}]${e.data.skipped.length ? `; skipped: ${e.data.skipped.join('; ')}` : ''}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const show = (list: ActionJson[]) => {
    for (const a of list) console.log(`     · ${a.action.padEnd(20)} ${a.state.padEnd(16)} ${a.reason.slice(0, 150)}${a.reason.length > 150 ? '…' : ''}`);
  };

  step('Before the breach: the server reaches everything');
  await reach('dev1', ext.a, 22, 'open', 'baseline');
  await reach('dev1', ext.a, 443, 'open', 'baseline');

  step('09:58 — a new user agent fetches a shell script, then dota3.tar.gz from a rare location');
  await breach('Anomalous Connection / New User Agent to IP Without Hostname', 42, ext.a, 80);
  await breach('Anomalous File / Zip or Gzip from Rare External Location', 55, ext.a, 80);
  await new Promise((r) => setTimeout(r, 500));
  const quiet = await actions();
  check(quiet.length === 0, 'no action yet: weak signals only count towards the repeat-offender threshold (3 within 24 h)', `${quiet.length} actions`);

  step('10:01 — Compromise / SSH Beacon: the server starts spreading over SSH');
  await breach('Compromise / SSH Beacon', 72, ext.c, 22);
  let list = await until((l) => find(l, 'block-ssh-egress')?.state === 'active' && find(l, 'quarantine-device')?.state === 'pending_approval');
  show(list);
  check(find(list, 'block-ssh-egress')?.state === 'active', 'SSH egress blocked automatically (playbook outlaw-ssh-spread)');
  check(find(list, 'quarantine-device')?.state === 'pending_approval', 'quarantine proposed: third Outlaw breach within 24 h; waits for an operator');
  await reach('dev1', ext.c, 22, 'blocked', 'SSH out');
  await reach('dev1', ext.a, 2222, 'blocked', 'SSH out on 2222');
  await reach('dev1', ext.a, 443, 'open', 'HTTPS still works');
  await reach('dev2', ext.c, 22, 'open', 'neighbour unaffected');

  step('10:03 — Compromise / High Priority Crypto Currency Mining: a Monero pool on 443');
  await breach('Compromise / High Priority Crypto Currency Mining [Enhanced Monitoring]', 86, ext.d, 443);
  list = await until((l) => find(l, 'block-endpoint')?.state === 'active');
  show(list.filter((a) => a.action === 'block-endpoint'));
  check(find(list, 'block-endpoint')?.state === 'active', 'mining pool blocked for this device (score 0.86 ≥ autoMinScore 0.8)');
  await reach('dev1', ext.d, 443, 'blocked', 'mining pool');
  await reach('dev1', ext.a, 443, 'open', 'other HTTPS');
  await reach('dev2', ext.d, 443, 'open', 'neighbour to the same pool');

  step('10:15 — Multiple Connections to New External TCP Port: scanning');
  await breach('Anomalous Connection / Multiple Connections to New External TCP Port', 68, ext.a, 2022);
  list = await until((l) => find(l, 'rate-limit-new-ports')?.state === 'active');
  check(find(list, 'rate-limit-new-ports')?.state === 'active', 'new external connections rate-limited (10/min, burst 5)');
  check(list.filter((a) => a.action === 'quarantine-device').length === 1, 'still one quarantine proposal: repeats extend it, never double it');

  step('An operator approves the quarantine');
  const q = find(list, 'quarantine-device');
  if (q) {
    const res = await api('POST', `/v1/actions/${q.id}/approve`, { reason: 'Outlaw confirmed on build-03 (demo)' });
    check(res.status === 200, 'approved', `HTTP ${res.status}`);
    list = await until((l) => find(l, 'quarantine-device')?.state === 'active');
    show(list.filter((a) => a.action === 'quarantine-device'));
    check(find(list, 'quarantine-device')?.state === 'active', 'quarantine active');
    await reach('dev1', ext.a, 443, 'blocked', 'quarantined');
    await reach('dev2', ext.a, 443, 'open', 'neighbour unaffected');
  } else {
    bad('no quarantine to approve');
  }

  step('The kill switch: sheriff goes passive and reverts everything it applied');
  const ks = await api('POST', '/v1/kill-switch', { reason: 'end of the demo' });
  check(ks.status === 200, `kill switch pulled: ${ks.json.reverted ?? '?'} actions reverted`, `HTTP ${ks.status}`);
  list = await until((l) => l.every((a) => ['reverted', 'expired', 'denied'].includes(a.state)));
  show(list);
  check(list.length > 0 && list.every((a) => ['reverted', 'expired', 'denied'].includes(a.state)), 'every action reverted');
  check((await api('GET', '/v1/mode')).json.mode === 'passive', 'mode is passive');
  await reach('dev1', ext.c, 22, 'open', 'restored');
  await reach('dev1', ext.d, 443, 'open', 'restored');

  step('The audit log');
  const v = await api('GET', '/v1/audit/verify');
  check(v.json.ok === true, `hash chain intact over ${v.json.entries} entries`);
}

try {
  await main();
} catch (err) {
  bad(`demo failed: ${(err as Error).stack ?? err}`);
} finally {
  await cleanup();
}
console.log(failures ? `\n✗ ${failures} step(s) did not behave as shown` : '\n✓ the demo behaved as shown; lab and demo data removed');
process.exit(failures ? 1 : 0);
