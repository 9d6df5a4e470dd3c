// The OpenAPI document: generated from the routes the server really registered, with roles, schemas and the error shape.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestSheriff, type TestSheriff } from '../helpers/sheriff.js';

/** Every route Fastify knows, read from its own route tree (independent of the recorder), one tree per method so parameter names stay apart. */
function registeredRoutes(t: TestSheriff): Set<string> {
  const out = new Set<string>();
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
    const stack: string[] = [];
    for (const line of t.sheriff.app!.printRoutes({ commonPrefix: false, method: method as 'GET' }).split('\n')) {
      const m = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?/.exec(line);
      if (!m) continue;
      const depth = (m[1] as string).length / 4;
      stack.length = depth;
      stack.push(m[2] as string);
      if (m[3]?.split(', ').includes(method)) out.add(`${method} ${stack.join('').replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  let t: TestSheriff;
  let doc: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the document is checked field by field
  before(async () => {
    t = await startTestSheriff();
    const r = await t.api(null, 'GET', '/docs/openapi.json');
    assert.equal(r.status, 200);
    doc = r.json;
  });
  after(async () => { await t.close(); });

  it('lists every registered route (method + path), and nothing else', () => {
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${path}`);
    const registered = registeredRoutes(t);
    assert.ok(registered.size >= 20, `found only ${registered.size} routes in the route tree`);
    assert.deepEqual([...documented].sort(), [...registered].sort());
    for (const must of ['GET /healthz', 'POST /v1/alerts/{source}', 'POST /v1/actions/{id}/approve', 'PUT /v1/mode', 'GET /docs', 'GET /docs/openapi.json']) {
      assert.ok(documented.has(must), must);
    }
  });

  it('each operator route names the role its guard enforces, and that role is what the server really requires', async () => {
    const expected: Record<string, string> = {
      'get /v1/actions': 'viewer', 'post /v1/actions': 'approver', 'post /v1/actions/{id}/revert': 'approver',
      'put /v1/mode': 'admin', 'post /v1/kill-switch': 'admin', 'get /v1/alerts': 'viewer', 'get /v1/audit/verify': 'viewer',
    };
    for (const [key, role] of Object.entries(expected)) {
      const [method, path] = key.split(' ') as [string, string];
      const op = doc.paths[path][method];
      assert.deepEqual(op.security, [{ operatorToken: [role] }], key);
      assert.equal(op['x-sheriff-role'], role);
      assert.equal(op.responses['401'].$ref, '#/components/responses/E401');
      assert.equal(op.responses['403'].$ref, '#/components/responses/E403');
    }
    // Cross-check against the server: a role just below the documented one is refused with 403.
    const below: Record<string, 'viewer' | 'approver' | null> = { viewer: null, approver: 'viewer', admin: 'approver' };
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) { // eslint-disable-line @typescript-eslint/no-explicit-any -- see above
      for (const [method, op] of Object.entries(ops)) {
        const role = op['x-sheriff-role'] as string | undefined;
        if (!role) continue;
        const url = path.replace('{id}', 'a-00000000none').replace('{source}', 'generic');
        const anon = await t.api(null, method.toUpperCase(), url, method === 'get' ? undefined : {});
        assert.equal(anon.status, 401, `${method} ${path} without a token`);
        const lower = below[role];
        if (lower) assert.equal((await t.api(lower, method.toUpperCase(), url, method === 'get' ? undefined : {})).status, 403, `${method} ${path} as ${lower}`);
      }
    }
  });

  it('public routes carry no operator security; the webhook documents signature or source token', () => {
    assert.deepEqual(doc.paths['/healthz'].get.security, []);
    assert.deepEqual(doc.paths['/metrics'].get.security, []);
    assert.deepEqual(doc.paths['/v1/alerts/{source}'].post.security, [{ sourceSignature: [] }, { sourceToken: [] }]);
    assert.equal(doc.components.securitySchemes.sourceSignature.name, 'X-Sheriff-Signature');
    assert.equal(doc.components.securitySchemes.operatorToken.scheme, 'bearer');
    const src = doc.paths['/v1/alerts/{source}'].post.parameters.find((p: { name: string }) => p.name === 'source');
    assert.deepEqual(src.schema.enum, ['darktrace', 'suricata', 'zeek', 'falco', 'alertmanager', 'generic']);
  });

  it('request schemas come from the route files, response schemas from the contracts', () => {
    const create = doc.paths['/v1/actions'].post;
    const body = create.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required.sort(), ['action', 'reason', 'target']);
    assert.deepEqual(body.properties.approval.enum, ['auto', 'required']);
    assert.equal(body.additionalProperties, false);
    assert.equal(create.responses['201'].content['application/json'].schema.$ref, '#/components/schemas/ManualActionResult');
    const list = doc.paths['/v1/actions'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    assert.deepEqual(list.sort(), ['query:action', 'query:cursor', 'query:device', 'query:limit', 'query:since', 'query:state']);
    const record = doc.components.schemas.ActionRecord;
    assert.ok(record.properties.state.enum.includes('pending_approval'));
    assert.ok(record.required.includes('history'));
    assert.equal(doc.components.schemas.ActionList.properties.items.items.properties.id.pattern, '^a-[a-z0-9]{8,40}$');
    assert.deepEqual(doc.paths['/v1/mode'].put.requestBody.content['application/json'].schema.properties.mode.enum, ['passive', 'active']);
  });

  it('documents the error shape { error: { code, message, details? } }, and a real error matches it', async () => {
    const err = doc.components.schemas.Error;
    assert.deepEqual(err.required, ['error']);
    assert.deepEqual(err.properties.error.required.sort(), ['code', 'message']);
    assert.ok(err.properties.error.properties.code.enum.includes('VALIDATION'));
    assert.ok('details' in err.properties.error.properties);
    assert.equal(doc.components.responses.E400.content['application/json'].schema.$ref, '#/components/schemas/Error');
    const bad = await t.api('approver', 'POST', '/v1/actions', { action: 'nope' });
    assert.equal(bad.status, 400);
    assert.ok(err.properties.error.properties.code.enum.includes(bad.json.error.code));
    assert.ok(doc.paths['/v1/actions'].post.responses['400']);
  });

  it('GET /docs is a self-contained page listing every operation', async () => {
    const res = await t.sheriff.app!.inject({ method: 'GET', url: '/docs' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    assert.ok(!/<script|https?:\/\/(?!127)/.test(res.body.replace(/href="\/docs\/openapi.json"/, '')), 'no scripts, no external URLs');
    for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
      for (const m of Object.keys(ops)) assert.ok(res.body.includes(`${m.toUpperCase()}</td><td><code>${path.replace(/&/g, '&#38;')}</code>`), `${m} ${path}`);
    }
  });
});
