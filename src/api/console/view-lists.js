// The two working lists: pending approvals and containments in force (or simulated, in passive mode).
import { api, q } from './api.js';
import { actionCard } from './cards.js';
import { h, syncList } from './dom.js';

const byNewest = (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt);
const inStates = async (states) => (await Promise.all(states.map((state) => api('GET', `/v1/actions?${q({ state, limit: 200 })}`))))
  .flatMap((p) => p.items).sort(byNewest);

function listView({ id, title, intro, empty, states }) {
  const list = h('div.cards', { id });
  return {
    title,
    mount: (root) => root.replaceChildren(h('h1', title), h('p.muted', intro), list),
    async refresh(ctx) {
      syncList(list, await inStates(states), (a) => a.id, (a) => actionCard(a, ctx), h('p.empty', empty));
    },
  };
}

export const approvalsView = () => listView({
  id: 'approvals', title: 'Pending approvals', states: ['pending_approval'],
  intro: 'Actions a playbook (or an operator) proposed that wait for a decision.',
  empty: 'Nothing waits for approval.',
});

export const activeView = () => listView({
  id: 'containments', title: 'Containments', states: ['enforcing', 'active', 'reverting', 'approved', 'failed', 'simulated'],
  intro: 'Applied, being applied or reverted, failed, and simulated (passive mode) actions.',
  empty: 'No containment in force.',
});
