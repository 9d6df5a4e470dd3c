// The two working lists: pending approvals and containments in force (or simulated, in passive mode).
import { api, q } from './api.js';
import { actionCard } from './cards.js';
import { h, syncList } from './dom.js';

const byNewest = (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt);

export function approvalsView() {
  const list = h('div.cards', { id: 'approvals' });
  return {
    title: 'Pending approvals',
    mount: (root) => root.replaceChildren(
      h('h1', 'Pending approvals'),
      h('p.muted', 'Actions a playbook (or an operator) proposed that wait for a decision.'),
      list),
    async refresh(ctx) {
      const page = await api('GET', `/v1/actions?${q({ state: 'pending_approval', limit: 200 })}`);
      syncList(list, page.items.sort(byNewest), (a) => a.id, (a) => actionCard(a, ctx), h('p.empty', 'Nothing waits for approval.'));
    },
  };
}

const inForce = ['enforcing', 'active', 'reverting', 'approved', 'failed', 'simulated'];

export function activeView() {
  const list = h('div.cards', { id: 'containments' });
  return {
    title: 'Containments',
    mount: (root) => root.replaceChildren(
      h('h1', 'Containments'),
      h('p.muted', 'Applied, being applied or reverted, failed, and simulated (passive mode) actions.'),
      list),
    async refresh(ctx) {
      const pages = await Promise.all(inForce.map((state) => api('GET', `/v1/actions?${q({ state, limit: 200 })}`)));
      const items = pages.flatMap((p) => p.items).sort(byNewest);
      syncList(list, items, (a) => a.id, (a) => actionCard(a, ctx), h('p.empty', 'No containment in force.'));
    },
  };
}
