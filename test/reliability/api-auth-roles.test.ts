// Every /v1 route (enumerated from the server itself) refuses a missing or wrong token; the role matrix holds.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { registeredRoutes } from '../../src/api/route-index.js';
import { startTestSheriff, TOKENS, type TestSheriff } from '../helpers/sheriff.js';

type Role = keyof typeof TOKENS;
const order: Role[] = ['viewer', 'approver', 'admin'];

// The least role each operator route needs (SPEC: viewers read, approvers act on actions, admins run the controller).
// Enumeration below fails for any /v1 route missing here, so a new route cannot slip in without a decision.
const MIN_ROLE: Record<string, Role> = {
  'GET /v1/actions': 'viewer',
  'GET /v1/actions/:id': 'viewer',
  'POST /v1/actions': 'approver',
  'POST /v1/actions/:id/approve': 'approver',
  'POST /v1/actions/:id/deny': 'approver',
  'POST /v1/actions/:id/revert': 'approver',
  'POST /v1/actions/:id/extend': 'approver',
  'GET /v1/mode': 'viewer',
  'PUT /v1/mode': 'admin',
  'POST /v1/kill-switch': 'admin',
  'GET /v1/audit': 'viewer',
  'GET /v1/audit/verify': 'viewer',
  'GET /v1/playbooks': 'viewer',
  'GET /v1/connectors': 'viewer',
  'GET /v1/alerts': 'viewer',
  'GET /v1/alerts/:id': 'viewer',
  'GET /v1/whoami': 'viewer',
};
// Webhooks authenticate the detector (source token / HMAC), not an operator.
const WEBHOOK = 'POST /v1/alerts/:source';

const concrete = (url: string) => url.replace(':source', 'darktrace').replace(/:[A-Za-z]+/g, 'act-doesnotexist');

describe('API authentication and roles over every registered route', () => {
  let t: TestSheriff;
  let routes: Array<{ method: string; url: string }>;
  before(async () => {
    // Generous anonymous budget: this suite sends many unauthenticated requests on purpose.
    t = await startTestSheriff({ limits: { http: { anonymous: { perMinute: 100_000, burst: 10_000 } } } });
    assert.ok(t.sheriff.app);
    routes = registeredRoutes(t.sheriff.app).filter((r) => r.url.startsWith('/v1'));
  });
  after(async () => { await t.close(); });

  const call = async (method: string, url: string, auth: string | null) => {
    const res = await t.sheriff.app!.inject({
      method: method as 'GET',
      url: concrete(url),
      headers: { ...(auth ? { authorization: auth } : {}), ...(method === 'POST' || method === 'PUT' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'POST' || method === 'PUT' ? { payload: '{}' } : {}),
    });
    return res;
  };

  it('enumerates the routes from the server and knows every one', () => {
    assert.ok(routes.length >= Object.keys(MIN_ROLE).length, `only ${routes.length} /v1 routes registered`);
    for (const r of routes) {
      if (r.method === 'HEAD' || `${r.method} ${r.url}` === WEBHOOK) continue;
      assert.ok(`${r.method} ${r.url}` in MIN_ROLE, `route ${r.method} ${r.url} has no role decision in this test`);
    }
    for (const key of Object.keys(MIN_ROLE)) assert.ok(routes.some((r) => `${r.method} ${r.url}` === key), `${key} is not registered`);
  });

  it('every /v1 route answers 401 with no token, a wrong token and a malformed header, in the standard error body', async () => {
    let checked = 0;
    for (const r of routes) {
      for (const auth of [null, `Bearer ${'x'.repeat(32)}`, `Bearer ${TOKENS.admin}x`, 'Basic YWRtaW46YWRtaW4=', `Bearer`]) {
        const res = await call(r.method, r.url, auth);
        assert.equal(res.statusCode, 401, `${r.method} ${r.url} with ${auth ?? 'no auth'}: ${res.statusCode} ${res.body}`);
        if (r.method !== 'HEAD') assert.equal(JSON.parse(res.body).error.code, 'UNAUTHORIZED');
        checked++;
      }
    }
    assert.ok(checked >= routes.length * 5);
  });

  it('a detector token is not an operator token, and an operator token is not a detector token', async () => {
    const { SOURCE_TOKEN } = await import('../helpers/sheriff.js');
    for (const key of Object.keys(MIN_ROLE)) {
      const [method, url] = key.split(' ') as [string, string];
      assert.equal((await call(method, url, `Bearer ${SOURCE_TOKEN}`)).statusCode, 401, key);
    }
    assert.equal((await call('POST', '/v1/alerts/:source', `Bearer ${TOKENS.admin}`)).statusCode, 401);
  });

  it('role matrix: each role gets 403 exactly on the routes above its rank', async () => {
    const matrix: string[] = [];
    for (const [key, min] of Object.entries(MIN_ROLE)) {
      const [method, url] = key.split(' ') as [string, string];
      for (const role of order) {
        const res = await call(method, url, `Bearer ${TOKENS[role]}`);
        const allowed = order.indexOf(role) >= order.indexOf(min);
        if (allowed) assert.ok(res.statusCode !== 403 && res.statusCode !== 401, `${role} ${key}: ${res.statusCode} ${res.body}`);
        else {
          assert.equal(res.statusCode, 403, `${role} ${key}: ${res.statusCode} ${res.body}`);
          assert.equal(JSON.parse(res.body).error.code, 'FORBIDDEN');
        }
        matrix.push(`${role} ${key} ${res.statusCode}`);
      }
    }
    assert.equal(matrix.length, Object.keys(MIN_ROLE).length * 3);
  });

  it('a refused request changes nothing (no action created by a viewer)', async () => {
    const before = (await t.api('viewer', 'GET', '/v1/actions')).json.items.length;
    const r = await t.api('viewer', 'POST', '/v1/actions', { action: 'block-ssh-egress', target: { ip: '10.77.0.1' }, reason: 'viewer tries' });
    assert.equal(r.status, 403);
    assert.equal((await t.api('viewer', 'GET', '/v1/actions')).json.items.length, before);
    const mode = await t.api('approver', 'PUT', '/v1/mode', { mode: 'passive' });
    assert.equal(mode.status, 403);
    assert.equal((await t.api('viewer', 'GET', '/v1/mode')).json.mode, 'active');
  });
});
