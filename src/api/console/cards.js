// The action card shared by the approvals, containments and device views: what, why, where, and the buttons a role may use.
import { api } from './api.js';
import { badge, countdown, fields, fmtDuration, fmtTime, h, link } from './dom.js';

const live = ['approved', 'enforcing', 'active', 'simulated'];
const revertable = ['approved', 'enforcing', 'active', 'failed', 'simulated'];

export const deviceLabel = (target) => (target.hostname ? `${target.ip} (${target.hostname})` : target.ip);

/** Runs one operator operation from a button: no double submit, the answer shown, the view refreshed. */
export async function act(ctx, button, what, fn) {
  const group = button.closest('.controls') ?? button;
  const buttons = [...group.querySelectorAll('button')];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await fn();
    ctx.flash(`${what}: done`, 'ok');
  } catch (err) {
    ctx.flash(`${what} failed: ${err.message}`, 'error');
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    await ctx.refresh();
  }
}

function connectorTable(connectors) {
  if (!connectors.length) return null;
  return h('table.connectors',
    h('thead', h('tr', h('th', 'connector'), h('th', 'status'), h('th', 'detail'))),
    h('tbody', connectors.map((c) => h('tr', { 'data-connector': c.name },
      h('td', `${c.name} (${c.type})`), h('td', badge(c.status)), h('td.detail', c.detail ?? '')))));
}

function approveControls(a, ctx) {
  const reason = h('input', { name: 'reason', type: 'text', placeholder: 'reason (goes to the audit log)', 'aria-label': 'reason', maxlength: 2000 });
  const post = (verb, fallback) => (e) => act(ctx, e.currentTarget, `${verb} ${a.action} on ${a.target.ip}`,
    () => api('POST', `/v1/actions/${a.id}/${verb}`, { reason: reason.value.trim() || fallback }));
  return h('div.controls', reason,
    h('button.primary', { type: 'button', 'data-do': 'approve', onclick: post('approve', 'approved in the console') }, 'Approve'),
    h('button.danger', { type: 'button', 'data-do': 'deny', onclick: post('deny', 'denied in the console') }, 'Deny'));
}

function liveControls(a, ctx) {
  const parts = [];
  const reason = h('input', { name: 'reason', type: 'text', placeholder: 'reason (goes to the audit log)', 'aria-label': 'reason', maxlength: 2000 });
  if (live.includes(a.state)) {
    const ttl = h('select', { name: 'ttl', 'aria-label': 'extend by' }, ['1h', '2h', '8h', '24h', '7d'].map((v) => h('option', { value: v }, v)));
    parts.push(h('span.group', ttl, h('button', {
      type: 'button', 'data-do': 'extend',
      onclick: (e) => act(ctx, e.currentTarget, `extend ${a.action} on ${a.target.ip} by ${ttl.value}`,
        () => api('POST', `/v1/actions/${a.id}/extend`, { ttl: ttl.value, ...(reason.value.trim() ? { reason: reason.value.trim() } : {}) })),
    }, 'Extend')));
  }
  if (revertable.includes(a.state)) {
    parts.push(h('span.group', reason, h('button.danger', {
      type: 'button', 'data-do': 'revert',
      onclick: (e) => act(ctx, e.currentTarget, `revert ${a.action} on ${a.target.ip}`,
        () => api('POST', `/v1/actions/${a.id}/revert`, { reason: reason.value.trim() || 'reverted in the console' })),
    }, 'Revert')));
  }
  return parts.length ? h('div.controls', parts) : null;
}

export function actionCard(a, ctx) {
  const left = a.expiresAt ? Date.parse(a.expiresAt) - Date.now() : NaN;
  return h('article.card', { 'data-action': a.id, 'data-state': a.state },
    h('header',
      h('strong.action-name', a.action), ' on ', link(['device', a.target.ip], deviceLabel(a.target)), ' ', badge(a.state),
      h('span.muted', a.mode === 'auto' ? ' automatic' : a.state === 'pending_approval' ? ' waits for an operator' : ' operator-approved')),
    fields([
      ['Why', h('span.reason', a.reason)],
      ['Playbook', a.playbook ?? 'manual action'],
      ['Alerts', a.alertIds.length ? h('span.alerts', a.alertIds.map((id) => link(['alert', id], id))) : ''],
      ['Params', Object.keys(a.params ?? {}).length ? h('code', JSON.stringify(a.params)) : ''],
      [a.expiresAt && left > 0 && live.includes(a.state) ? 'Time left' : 'Expires',
        a.expiresAt ? (left > 0 && live.includes(a.state) ? countdown(a.expiresAt) : fmtTime(a.expiresAt)) : `TTL ${fmtDuration(a.ttlMs)}`],
      ['Created', fmtTime(a.createdAt)],
      ['Id', h('code', a.id)],
    ]),
    connectorTable(a.connectors ?? []),
    h('details.history', h('summary', `History (${a.history.length})`),
      h('ol', a.history.map((x) => h('li', h('time', fmtTime(x.at)), ' ', badge(x.state), ' by ', x.by, x.note ? ` — ${x.note}` : '')))),
    ctx.can('approver') ? (a.state === 'pending_approval' ? approveControls(a, ctx) : liveControls(a, ctx)) : null);
}
