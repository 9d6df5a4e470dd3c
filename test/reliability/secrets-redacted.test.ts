// Secrets never reach the log or an API answer: config secrets, a failing connector's password, a wrong webhook token.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { InjectOptions } from 'fastify';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startSheriff, type Sheriff } from '../../src/main.js';
import { FakeRouterOsServer } from '../fakes/routeros/server.js';
import { dropPrefix, testPrefix, testRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/sheriff.js';

const secret = (label: string) => `${label}-SeCrEt-${randomBytes(12).toString('hex')}`;
const S = {
  admin: secret('admin'), viewer: secret('viewer'), hmac: secret('hmac'), hook: secret('hook'),
  routeros: secret('ros'), falcon: secret('falcon'), s1: secret('s1'), wrongHook: secret('wrong'), wrongOp: secret('wrongop'),
};

describe('secrets are redacted in logs and errors', () => {
  const lines: string[] = [];
  let sheriff: Sheriff;
  let fake: FakeRouterOsServer;
  let echo: Server;
  const prefix = testPrefix('secrets');
  before(async () => {
    fake = new FakeRouterOsServer({ users: [{ name: 'sheriff', password: 'something-else-entirely' }] });
    await fake.listen(0, '127.0.0.1');
    // A hostile backend: answers every request 500 and echoes what it received (credentials included) in the body.
    echo = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: `echo ${req.headers.authorization ?? ''} ${body}` }] }));
      });
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoUrl = `http://127.0.0.1:${(echo.address() as { port: number }).port}`;
    const config = parseConfig({
      mode: 'active', redisPrefix: prefix, playbooks: './playbooks', reconcile: { interval: '1h' },
      auth: { tokens: [{ name: 'root', role: 'admin', token: S.admin }, { name: 'eve', role: 'viewer', token: S.viewer }] },
      sources: { darktrace: { secret: S.hmac }, suricata: { token: S.hook } },
      connectors: {
        mikrotik: { type: 'routeros', host: '127.0.0.1', port: fake.port, user: 'sheriff', password: S.routeros, timeout: '2s', scope: ['192.168.88.0/24'] },
        falcon: { type: 'crowdstrike', baseUrl: echoUrl, clientId: 'sheriff-client', clientSecret: S.falcon, timeoutMs: 2000, scope: ['192.168.88.0/24'] },
        s1: { type: 'sentinelone', baseUrl: echoUrl, apiToken: S.s1, timeoutMs: 2000, scope: ['192.168.88.0/24'] },
      },
      limits: { breaker: { failures: 1000, coolDown: '1s' } },
    });
    const destination = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
    const log = createLogger({ level: 'trace', destination });
    sheriff = await startSheriff({ config, role: 'all', log, reconcileOnStart: false });
    await sheriff.ready();
    // What a careless caller might log: the whole config object.
    log.info({ config }, 'configuration loaded');
    log.info({ headers: { authorization: `Bearer ${S.admin}` } }, 'request headers');
  });
  after(async () => {
    await sheriff?.close();
    await fake?.close();
    await new Promise((r) => echo?.close(r));
    const r = testRedis();
    await dropPrefix(r, prefix);
    r.disconnect();
  });

  it('a run with failing connectors, wrong tokens and errors logs no secret and answers none', async () => {
    const app = sheriff.app!;
    const answers: string[] = [];
    const inject = async (o: InjectOptions) => {
      const res = await app.inject(o);
      answers.push(JSON.stringify(res.headers), res.body);
      return res;
    };
    // Wrong webhook token and a wrong operator token.
    const hook = await inject({ method: 'POST', url: '/v1/alerts/suricata', headers: { authorization: `Bearer ${S.wrongHook}`, 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(hook.statusCode, 401);
    const op = await inject({ method: 'GET', url: '/v1/actions', headers: { authorization: `Bearer ${S.wrongOp}` } });
    assert.equal(op.statusCode, 401);
    // A manual action every connector fails on: the router refuses the password, the EDRs answer 500 with an echo.
    const created = await inject({
      method: 'POST', url: '/v1/actions', headers: { authorization: `Bearer ${S.admin}` },
      payload: { action: 'quarantine-device', target: { ip: '192.168.88.20' }, reason: 'secret test' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const id = JSON.parse(created.body).id as string;
    const final = await waitFor(async () => {
      const r = await inject({ method: 'GET', url: `/v1/actions/${id}`, headers: { authorization: `Bearer ${S.admin}` } });
      const j = JSON.parse(r.body) as { state: string; connectors: unknown[] };
      return j.state === 'failed' || (j.connectors.length >= 3 && j.state !== 'approved') ? j : null;
    }, 'the action to be tried on every connector', 20_000);
    assert.ok(final.connectors.length >= 1);
    await inject({ method: 'GET', url: '/v1/connectors', headers: { authorization: `Bearer ${S.admin}` } });
    await inject({ method: 'GET', url: '/v1/audit?limit=1000', headers: { authorization: `Bearer ${S.admin}` } });

    const logText = lines.join('');
    // The run did produce the interesting lines, so their absence of secrets means something.
    assert.match(logText, /connector (apply failed|start failed)/);
    assert.match(logText, /configuration loaded/);
    assert.ok(logText.includes('[redacted]'));
    // The hostile backend did echo the Falcon secret; it arrives scrubbed in the log and in the action's connector detail.
    assert.match(logText, /client_secret=\[redacted\]/);
    assert.ok(answers.some((a) => a.includes('client_secret=[redacted]')), 'the connector detail shows the scrubbed echo');
    const everything = `${logText}\n${answers.join('\n')}`;
    for (const [name, value] of Object.entries(S)) {
      assert.ok(!everything.includes(value), `secret ${name} leaked: …${everything.slice(Math.max(0, everything.indexOf(value) - 200), everything.indexOf(value) + 40)}`);
    }
  });
});
