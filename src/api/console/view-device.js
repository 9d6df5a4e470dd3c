// A device: its alerts (normalised + raw), its actions and their audit timeline; and one alert on its own.
import { api, q } from './api.js';
import { actionCard } from './cards.js';
import { fields, fmtTime, h, link, pretty, syncList } from './dom.js';

function searchForm(current) {
  const input = h('input', { name: 'device', type: 'text', placeholder: 'device IP, e.g. 10.0.0.5', value: current ?? '', 'aria-label': 'device IP', spellcheck: 'false', autocapitalize: 'off' });
  return h('form.search', {
    onsubmit: (e) => {
      e.preventDefault();
      const ip = input.value.trim();
      if (ip) location.hash = `#/device/${encodeURIComponent(ip)}`;
    },
  }, input, h('button', { type: 'submit' }, 'Show device'));
}

function alertRow(a) {
  return h('details.alert', { 'data-alert': a.id },
    h('summary', h('span.alert-name', a.name), ' ', h('span.muted', `${a.source} · score ${a.score} · ${fmtTime(a.detectedAt)}`)),
    fields([
      ['Id', link(['alert', a.id], a.id)],
      ['Peer', a.peer ? [a.peer.ip, a.peer.port !== undefined ? `port ${a.peer.port}` : null, a.peer.hostname].filter(Boolean).join(' · ') : ''],
      ['Tags', a.device.tags.join(', ')],
      ['Received', fmtTime(a.receivedAt)],
    ]),
    h('h4', 'Raw payload'), pretty(a.raw));
}

function timelineRow(e) {
  if (e.alert) {
    return h('li.alert-received', h('time', fmtTime(e.at)), ' ', h('strong', 'alert'), ' ', link(['alert', e.alert.id], h('span.alert-name', e.alert.name)),
      ' ', h('span.muted', `from ${e.alert.source}, score ${e.alert.score}`));
  }
  const why = e.data?.reason ?? e.data?.why ?? e.data?.note ?? '';
  return h('li', h('time', fmtTime(e.at)), ' ', h('strong', e.type), ' by ', h('span', e.by),
    e.actionId ? [' on ', h('code', e.actionId)] : null, why ? [' — ', h('span.reason', String(why))] : null);
}

export function deviceView(ip) {
  const alerts = h('div.list', { id: 'device-alerts' });
  const actions = h('div.cards', { id: 'device-actions' });
  const timeline = h('ol.timeline', { id: 'device-timeline' });
  return {
    title: ip ? `Device ${ip}` : 'Devices',
    mount(root) {
      if (!ip) {
        root.replaceChildren(h('h1', 'Devices'), h('p.muted', 'Look up a device by IP address to see its alerts, actions and audit trail.'), searchForm());
        return;
      }
      root.replaceChildren(h('h1', `Device ${ip}`), searchForm(ip),
        h('h2', 'Actions'), actions, h('h2', 'Alerts'), alerts, h('h2', 'Audit timeline'), timeline);
    },
    async refresh(ctx) {
      if (!ip) return;
      const [al, ac] = await Promise.all([
        api('GET', `/v1/alerts?${q({ device: ip, limit: 100 })}`),
        api('GET', `/v1/actions?${q({ device: ip, limit: 50 })}`),
      ]);
      syncList(alerts, al.items, (a) => a.id, alertRow, h('p.empty', 'No stored alerts for this device.'));
      syncList(actions, ac.items, (a) => a.id, (a) => actionCard(a, ctx), h('p.empty', 'No actions for this device.'));
      const audits = await Promise.all(ac.items.slice(0, 20).map((a) => api('GET', `/v1/audit?${q({ action: a.id, limit: 200 })}`)));
      // Alerts and audit entries in one story, newest first.
      const entries = [
        ...audits.flatMap((p) => p.items).map((e) => ({ ...e, key: `audit-${e.seq}` })),
        ...al.items.map((a) => ({ key: `alert-${a.id}`, at: a.receivedAt, alert: { id: a.id, name: a.name, source: a.source, score: a.score } })),
      ].sort((x, y) => Date.parse(y.at) - Date.parse(x.at));
      syncList(timeline, entries, (e) => e.key, timelineRow, h('li.empty', 'Nothing happened to this device yet.'));
    },
  };
}

export function alertView(id) {
  const body = h('div', { id: 'alert-detail' });
  let loaded = false;
  return {
    title: `Alert ${id}`,
    mount: (root) => root.replaceChildren(h('h1', 'Alert'), body),
    async refresh() {
      if (loaded) return; // stored alerts do not change
      const a = await api('GET', `/v1/alerts/${encodeURIComponent(id)}`);
      loaded = true;
      const { raw, ...normalised } = a;
      body.replaceChildren(
        h('p.alert-title', h('strong.alert-name', a.name)),
        fields([
          ['Device', link(['device', a.device.ip], a.device.hostname ? `${a.device.ip} (${a.device.hostname})` : a.device.ip)],
          ['Source', a.source], ['Score', String(a.score)], ['Detected', fmtTime(a.detectedAt)], ['Received', fmtTime(a.receivedAt)],
        ]),
        h('h2', 'Normalised'), pretty(normalised), h('h2', 'Raw payload'), pretty(raw));
    },
  };
}
