// Profiling aid: CPU cost of each in-process ingest stage for one Darktrace push alert (no I/O).
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../src/config.js';
import { parseItems } from '../src/ingest/body.js';
import { compileInternal } from '../src/ingest/common.js';
import { normaliseItems } from '../src/ingest/index.js';
import { createSourceAuth, signBody } from '../src/ingest/webhook-auth.js';

const secret = randomBytes(24).toString('hex');
const config = parseConfig({ sources: { darktrace: { secret } } });
const auth = createSourceAuth(config);
const internal = compileInternal(config.ingest.internal);
const N = Number(process.env.N ?? 50_000);
const t = Math.floor(Date.now() / 1000);
const bodies = Array.from({ length: N }, (_v, k) => {
  const body = Buffer.from(JSON.stringify({ modelName: 'Compromise / SSH Beacon', score: 80, pbid: 1e12 + k, uuid: `b-${k}`, breachTime: Date.now(), deviceIp: `10.1.${(k >> 8) & 255}.${(k & 255) || 1}`, destIP: '185.199.108.153', destPort: 2222, deviceHostname: `bench-${k}` }));
  return { body, headers: { 'x-sheriff-signature': signBody(secret, body, t) } };
});
function time(label: string, fn: (k: number) => unknown): void {
  for (let k = 0; k < 2000; k++) fn(k);
  const c0 = process.cpuUsage();
  for (let k = 0; k < N; k++) fn(k);
  const c = process.cpuUsage(c0);
  console.log(`${label.padEnd(22)} ${((c.user + c.system) / N).toFixed(2)} us`);
}
const items = bodies.map((b) => parseItems(b.body, false));
const ctx = { receivedAt: new Date().toISOString(), internal, deviceLabels: [] };
const alerts = items.map((it) => normaliseItems('darktrace', it, ctx).alerts[0]!.alert);
time('verify (HMAC)', (k) => auth.verify('darktrace', bodies[k]!.headers, bodies[k]!.body, t));
time('parseItems', (k) => parseItems(bodies[k]!.body, false));
time('normalise', (k) => normaliseItems('darktrace', items[k]!, ctx));
time('stringify alert', (k) => JSON.stringify(alerts[k]));
time('stringify job data', (k) => { const { raw: _r, ...rest } = alerts[k]!; return JSON.stringify({ alert: rest }); });
