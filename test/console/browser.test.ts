// The console end to end in headless Chromium: sign-in per role, approve, revert, device page, kill switch, hostile names.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SOURCE_TOKEN, TOKENS, startTestSheriff, waitFor, type TestSheriff } from '../helpers/sheriff.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts/console';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install -y chromium); console browser test skipped`;
if (skip) console.log(`# SKIP ${skip}`);

const run = Math.random().toString(36).slice(2, 8);
const HOSTILE = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> Console / Beacon ${run}`;
const PLAYBOOK = `name: console-test
description: every generic alert on 10.20.0.0/16 asks for approval
match:
  source: [generic]
  device: { cidrs: [10.20.0.0/16] }
respond:
  - action: block-ssh-egress
    ttl: 2h
    approval: required
`;

type Role = keyof typeof TOKENS;

describe('operator console in headless Chromium', { skip }, () => {
  let t: TestSheriff;
  let browser: Browser;
  let base: string;
  let pbDir: string;
  const problems: string[] = [];
  const pages: Page[] = [];

  async function openAs(role: Role, viewport = { width: 1280, height: 860 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`${role}: ${m.text()}`); });
    page.on('pageerror', (err) => problems.push(`${role}: ${err.message}`));
    pages.push(page);
    await page.goto(`${base}/`);
    await page.fill('#token', TOKENS[role]);
    await page.click('#sign-in-form button[type=submit]');
    await page.locator('#who-name').filter({ hasText: `(${role})` }).waitFor();
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  async function stateOf(id: string, state: string) {
    return waitFor(async () => {
      const r = await t.api('viewer', 'GET', `/v1/actions/${id}`);
      return r.json.state === state ? r.json : null;
    }, `action ${id} to be ${state}`);
  }

  async function alertOn(ip: string, name: string): Promise<{ alertId: string; actionId: string }> {
    const res = await t.sheriff.app!.inject({
      method: 'POST', url: '/v1/alerts/generic',
      headers: { authorization: `Bearer ${SOURCE_TOKEN}`, 'content-type': 'application/json' },
      payload: { id: `console-${run}-${ip}`, name, score: 0.9, device: { ip, hostname: `web-${ip.split('.').pop()}` }, peer: { ip: '198.51.100.7', port: 22 } },
    });
    assert.equal(res.statusCode, 202, res.body);
    const alertId = res.json().ids[0] as string;
    const action = await waitFor(async () => {
      const r = await t.api('viewer', 'GET', `/v1/actions?device=${ip}&state=pending_approval`);
      return r.json.items[0] as { id: string } | undefined;
    }, `a pending approval for ${ip}`);
    return { alertId, actionId: action.id };
  }

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    pbDir = mkdtempSync(join(tmpdir(), 'sheriff-console-pb-'));
    writeFileSync(join(pbDir, 'console.yaml'), PLAYBOOK);
    t = await startTestSheriff({ playbooks: pbDir, connectors: { dry: { type: 'log', scope: ['10.20.0.0/16'] } } });
    await t.sheriff.app!.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.sheriff.app!.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    for (const p of pages) await p.context().close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await t?.close();
    if (pbDir) rmSync(pbDir, { recursive: true, force: true });
  });

  let first: { alertId: string; actionId: string };

  it('an approver sees a pending approval with why and the alert, shown as text, and approves it', async () => {
    first = await alertOn('10.20.0.1', HOSTILE);
    const page = await openAs('approver');
    const card = page.locator(`#approvals [data-action="${first.actionId}"]`);
    await card.waitFor();
    assert.match(await card.locator('.reason').textContent() ?? '', /Playbook "console-test" matched alert/);
    assert.ok((await card.locator('.reason').textContent())?.includes(HOSTILE), 'the hostile name is shown verbatim as text');
    assert.equal(await card.locator('img, script').count(), 0, 'no element was made from the alert name');
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await card.locator(`a[href="#/alert/${first.alertId}"]`).count(), 1, 'alert linked');
    assert.equal(await page.locator('#pending-count').textContent(), '1');
    await shot(page, '01-approver-pending');

    await card.locator('input[name=reason]').fill('confirmed by console test');
    // The 2-second refresh must not wipe what the operator is typing.
    const before = await page.locator('#status').textContent();
    await page.locator('#status').filter({ hasNotText: before ?? '' }).waitFor();
    assert.equal(await card.locator('input[name=reason]').inputValue(), 'confirmed by console test');
    await card.locator('button[data-do=approve]').click();
    await card.waitFor({ state: 'detached' });
    const active = await stateOf(first.actionId, 'active');
    assert.equal(active.history.find((x: { state: string }) => x.state === 'approved').note, 'confirmed by console test');

    await page.click('#nav a[data-view=active]');
    const live = page.locator(`#containments [data-action="${first.actionId}"][data-state=active]`);
    await live.waitFor();
    assert.equal(await live.locator('[data-connector=dry] .badge').textContent(), 'enforced');
    assert.match(await live.locator('.countdown').textContent() ?? '', /^(1h \d+m|2h 0m)$/);
    await shot(page, '02-approver-containments');
  });

  it('an approver reverts a containment from its card', async () => {
    const created = await t.api('approver', 'POST', '/v1/actions', { action: 'block-ssh-egress', target: { ip: '10.20.0.2' }, reason: 'console revert test' });
    await stateOf(created.json.id, 'active');
    const page = pages[0]!;
    const card = page.locator(`#containments [data-action="${created.json.id}"][data-state=active]`);
    await card.waitFor();
    await card.locator('input[name=reason]').fill('false positive');
    await card.locator('button[data-do=revert]').click();
    const done = await stateOf(created.json.id, 'reverted');
    assert.equal(done.connectors[0].status, 'reverted');
    const asked = done.history.find((x: { state: string }) => x.state === 'reverting');
    assert.deepEqual({ by: asked.by, note: asked.note }, { by: 'approver', note: 'false positive' });
    await page.locator(`#containments [data-action="${created.json.id}"]`).waitFor({ state: 'detached' });
    assert.equal(await page.locator('#mode-switch, #kill-switch').count(), 0);
    await page.click('#nav a[data-view=mode]');
    await page.locator('#mode-controls').filter({ hasText: 'Only admins' }).waitFor();
    assert.equal(await page.locator('#mode-switch, #kill-switch').count(), 0, 'no mode switch or kill switch for an approver');
  });

  it('the device page shows alerts (normalised and raw), actions and the audit timeline; the alert page too', async () => {
    const page = pages[0]!;
    await page.goto(`${base}/#/device/10.20.0.1`);
    const alert = page.locator(`#device-alerts [data-alert="${first.alertId}"]`);
    await alert.waitFor();
    assert.equal(await alert.locator('.alert-name').textContent(), HOSTILE);
    await alert.locator('summary').click();
    assert.match(await alert.locator('pre.json').textContent() ?? '', /"id": "console-/);
    await page.locator(`#device-actions [data-action="${first.actionId}"]`).waitFor();
    await page.locator('#device-timeline li', { hasText: 'action.approved' }).waitFor();
    assert.ok(await page.locator('#device-timeline li.alert-received').count() >= 1);
    assert.equal(await page.locator('#view img, #view script').count(), 0);
    await shot(page, '03-device');
    await alert.locator(`a[href="#/alert/${first.alertId}"]`).click();
    await page.locator('#alert-detail .alert-name').waitFor();
    assert.equal(await page.locator('#alert-detail .alert-name').textContent(), HOSTILE);
    assert.equal(await page.locator('#alert-detail pre.json').count(), 2, 'normalised and raw');
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    await shot(page, '04-alert');
  });

  it('a viewer sees approvals and containments but no buttons, and the API refuses the operation anyway', async () => {
    const pending = await alertOn('10.20.0.3', `Viewer / Check ${run}`);
    const page = await openAs('viewer');
    const card = page.locator(`#approvals [data-action="${pending.actionId}"]`);
    await card.waitFor();
    assert.equal(await page.locator('button[data-do]').count(), 0, 'no approve/deny for a viewer');
    await page.click('#nav a[data-view=active]');
    await page.locator(`#containments [data-action="${first.actionId}"]`).waitFor();
    assert.equal(await page.locator('button[data-do]').count(), 0, 'no extend/revert for a viewer');
    await page.click('#nav a[data-view=mode]');
    await page.locator('#mode-controls').filter({ hasText: 'Only admins' }).waitFor();
    const status = await page.evaluate(async (id) => {
      const token = sessionStorage.getItem('sheriff.token');
      const res = await fetch(`/v1/actions/${id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'sneaky' }) });
      return res.status;
    }, pending.actionId);
    assert.equal(status, 403);
    assert.equal((await t.api('viewer', 'GET', `/v1/actions/${pending.actionId}`)).json.state, 'pending_approval');
    await shot(page, '05-viewer-mode');
  });

  it('an admin pulls the kill switch after confirming: mode passive, containments reverted', async () => {
    const page = await openAs('admin');
    await page.click('#nav a[data-view=mode]');
    await page.locator('#mode-now').filter({ hasText: 'active' }).waitFor();
    await page.click('#kill-switch');
    await page.locator('#kill-switch-confirm').waitFor();
    assert.equal((await t.api('viewer', 'GET', '/v1/mode')).json.mode, 'active', 'the first click only asks');
    await page.click('#kill-switch-yes');
    assert.equal((await t.api('viewer', 'GET', '/v1/mode')).json.mode, 'active', 'no reason, no kill switch');
    await page.fill('input[name=kill-switch-reason]', 'console drill');
    await shot(page, '06-admin-kill-confirm');
    await page.click('#kill-switch-yes');
    await page.locator('#mode-now').filter({ hasText: 'passive' }).waitFor();
    await page.locator('#mode-badge').filter({ hasText: 'passive' }).waitFor();
    const reverted = await stateOf(first.actionId, 'reverted');
    assert.match(reverted.history.at(-1).note, /kill switch: console drill/);
    const audit = await t.api('viewer', 'GET', '/v1/audit?type=kill-switch');
    assert.equal(audit.json.items[0].by, 'admin');
    await page.click('#nav a[data-view=active]');
    await page.locator('#containments .empty').waitFor();
    assert.equal(await page.locator('#containments [data-state=active]').count(), 0);
    await shot(page, '07-admin-after-kill');
  });

  it('a wrong token is refused at sign-in and nothing is stored', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    pages.push(page);
    await page.goto(`${base}/`);
    await page.fill('#token', 'not-an-operator-token-0123456789');
    await page.click('#sign-in-form button[type=submit]');
    await page.locator('#sign-in-error').filter({ hasText: 'not valid' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('sheriff.token')), null);
    assert.equal(await page.locator('#nav').isHidden(), true);
    assert.deepEqual((await context.cookies()).length, 0);
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const page = await openAs('approver', { width: 390, height: 844 });
    await page.locator('#approvals [data-action]').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    await shot(page, '08-phone-approvals');
    await page.goto(`${base}/#/device/10.20.0.1`);
    await page.locator('#device-alerts [data-alert]').first().waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 0, 'device page fits');
    await shot(page, '09-phone-device');
  });

  it('no Content-Security-Policy violation or script error happened on any page', () => {
    assert.deepEqual(problems, []);
  });
});
