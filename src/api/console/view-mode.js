// Mode (passive/active) and the kill switch; only admins get the controls, both behind a confirmation step.
import { api } from './api.js';
import { act } from './cards.js';
import { h } from './dom.js';

/** A button that first opens a confirmation box (reason + confirm/cancel); nothing happens on the first click. */
function confirmed(ctx, { id, label, danger, question, confirmLabel, what, run }) {
  const box = h('div.confirm', { id: `${id}-confirm`, hidden: true });
  const open = h(danger ? 'button.danger' : 'button.primary', { type: 'button', id, onclick: () => { box.hidden = false; open.hidden = true; reason.focus(); } }, label);
  const reason = h('input', { name: `${id}-reason`, type: 'text', placeholder: 'reason (required, goes to the audit log)', 'aria-label': 'reason', maxlength: 2000 });
  const close = () => { box.hidden = true; open.hidden = false; reason.value = ''; };
  box.append(
    h('p', question), reason,
    h('div.controls',
      h(danger ? 'button.danger' : 'button.primary', {
        type: 'button', id: `${id}-yes`,
        onclick: (e) => {
          if (!reason.value.trim()) { ctx.flash('give a reason first', 'error'); reason.focus(); return; }
          const text = reason.value.trim();
          void act(ctx, e.currentTarget, what, () => run(text)).then(close);
        },
      }, confirmLabel),
      h('button', { type: 'button', onclick: close }, 'Cancel')));
  return h('div.confirmable', open, box);
}

export function modeView() {
  const current = h('strong', { id: 'mode-now' }, '…');
  const explain = h('p.muted');
  const controls = h('div', { id: 'mode-controls' });
  let shown = null;
  return {
    title: 'Mode',
    mount: (root) => root.replaceChildren(h('h1', 'Mode'), h('p.mode-line', 'sheriff is ', current), explain, controls),
    async refresh(ctx) {
      const { mode } = await api('GET', '/v1/mode');
      current.textContent = mode;
      current.className = `mode-${mode}`;
      explain.textContent = mode === 'active'
        ? 'Active: approved actions are enforced on the connectors.'
        : 'Passive: sheriff decides and records what it would do (simulated actions), and touches nothing.';
      if (shown === mode) return; // keep an open confirmation box across refreshes
      shown = mode;
      if (!ctx.can('admin')) {
        controls.replaceChildren(h('p.muted', `Only admins can switch the mode or pull the kill switch (you are ${ctx.me.role}).`));
        return;
      }
      const other = mode === 'active' ? 'passive' : 'active';
      controls.replaceChildren(
        h('section.panel',
          h('h2', 'Switch mode'),
          confirmed(ctx, {
            id: 'mode-switch', label: `Switch to ${other}`, danger: other === 'active', confirmLabel: `Yes, switch to ${other}`,
            question: other === 'active' ? 'Actions will be enforced on real enforcement points from now on.' : 'New actions will only be simulated. Containments in force stay in force.',
            what: `switch to ${other}`, run: (reason) => api('PUT', '/v1/mode', { mode: other, reason }),
          })),
        h('section.panel.kill',
          h('h2', 'Kill switch'),
          h('p', 'Sets passive mode and reverts every containment in force. Use it when sheriff itself is the problem.'),
          confirmed(ctx, {
            id: 'kill-switch', label: 'Pull the kill switch', danger: true, confirmLabel: 'Yes, revert everything',
            question: 'Really set passive mode and revert every containment?',
            what: 'kill switch', run: (reason) => api('POST', '/v1/kill-switch', { reason }),
          })));
    },
  };
}
