// DOM helpers: every piece of data becomes a text node (nothing is parsed as HTML), lists are patched in place.

/**
 * h('tag.class', { attr: value, onclick: fn }, ...children). Strings and numbers become text nodes, so
 * hostile alert names stay text. Attributes go through setAttribute; event handlers through addEventListener.
 */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) {
      if (typeof v !== 'function') throw new TypeError(`h(): ${k} must be a function`);
      el.addEventListener(k.slice(2), v);
    }
    else if (k === 'class') el.className = [el.className, v].filter(Boolean).join(' ');
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** In-page links only: the href always starts with '#', whatever the value. */
export const link = (path, ...children) => h('a', { href: `#/${path.map(encodeURIComponent).join('/')}` }, ...children);

/**
 * Shows `items` in `container`, keeping the element of an item whose JSON did not change (so a half-typed
 * reason or the focus survives the 2-second refresh) and carrying typed values into items that did change.
 */
export function syncList(container, items, key, render, empty) {
  const old = new Map();
  for (const el of container.children) if (el.dataset.key) old.set(el.dataset.key, el);
  const next = [];
  for (const item of items) {
    const k = key(item);
    const sig = JSON.stringify(item);
    let el = old.get(k);
    if (!el || el.dataset.sig !== sig) {
      const fresh = render(item);
      fresh.dataset.key = k;
      fresh.dataset.sig = sig;
      if (el) carryInputs(el, fresh);
      el = fresh;
    }
    next.push(el);
  }
  if (!next.length && empty) next.push(empty);
  next.forEach((el, i) => {
    if (container.children[i] !== el) container.insertBefore(el, container.children[i] ?? null);
  });
  while (container.children.length > next.length) container.lastElementChild.remove();
}

function carryInputs(from, to) {
  for (const input of from.querySelectorAll('input[name], select[name]')) {
    const twin = to.querySelector(`[name="${CSS.escape(input.name)}"]`);
    if (!twin) continue;
    twin.value = input.value;
    if (document.activeElement === input) queueMicrotask(() => twin.focus());
  }
}

export function fmtDuration(ms) {
  if (!Number.isFinite(ms)) return '—';
  if (ms <= 0) return 'due now';
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

export function fmtTime(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return String(iso ?? '—');
  const ago = Date.now() - t;
  const when = new Date(t).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
  return ago >= 0 && ago < 86_400_000 ? `${when} (${fmtDuration(ago)} ago)` : when;
}

/** A span that counts down to `iso`; tick() refreshes every such span once a second. */
export const countdown = (iso) => h('span.countdown', { 'data-until': iso }, fmtDuration(Date.parse(iso) - Date.now()));

export function tick() {
  for (const el of document.querySelectorAll('[data-until]')) {
    el.textContent = fmtDuration(Date.parse(el.dataset.until) - Date.now());
  }
}

export const badge = (state) => h(`span.badge.state-${state.replace(/[^a-z_]/g, '')}`, state.replace(/_/g, ' '));

export const pretty = (value) => h('pre.json', JSON.stringify(value, null, 2));

/** Label/value rows; rows with an empty value are left out. */
export const fields = (rows) => h('dl.fields', rows.filter(([, v]) => v !== undefined && v !== null && v !== '')
  .map(([k, v]) => [h('dt', k), h('dd', v)]));
