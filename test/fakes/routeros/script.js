// Executes the subset of RouterOS scripting that the connector's bulk apply generates; refuses anything else.

import { Trap } from './router.js';

const WORD = String.raw`[A-Za-z0-9.:/*-]+`;
const ADD_OR_SET = new RegExp(
  String.raw`^:do \{ /ip firewall address-list add list=(${WORD}) address=(${WORD})(?: timeout=(${WORD}))? comment="(${WORD})" \}` +
  String.raw` on-error=\{ /ip firewall address-list set \[find list="(${WORD})" address="(${WORD})"\](?: timeout=(${WORD}))? comment="(${WORD})" \}$`,
);

/**
 * Runs a script's source against the router as RouterOS would for this subset:
 * `:do { add } on-error={ set [find …] }` turns a duplicate add into an update of the existing entry.
 * @param {import('./router.js').FakeRouter} router
 * @param {string} source
 */
export function runScript(router, source) {
  const lines = source.split('\n');
  // Parse everything first: RouterOS refuses a script with a syntax error before running any of it.
  const parsed = lines.map((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return null;
    const m = ADD_OR_SET.exec(line.trim());
    if (!m) throw new Trap(`syntax error (line ${i + 1}) [fake: unsupported script form]`, 3);
    const [, list, address, timeout, comment, fList, fAddress, sTimeout, sComment] = /** @type {string[]} */ (m);
    if (fList !== list || fAddress !== address || sTimeout !== timeout || sComment !== comment) {
      throw new Trap(`syntax error (line ${i + 1}) [fake: add and set disagree]`, 3);
    }
    return { list, address, timeout, comment };
  });
  for (const p of parsed) {
    if (!p) continue;
    const attrs = new Map([['list', p.list], ['address', p.address], ['comment', p.comment]]);
    if (p.timeout !== undefined) attrs.set('timeout', p.timeout);
    try {
      router.addEntry(attrs);
    } catch {
      const existing = router.entriesOf(p.list).find((e) => e.address === canonical(p.address));
      if (!existing) continue;
      const set = new Map([['.id', existing.id], ['comment', p.comment]]);
      if (p.timeout !== undefined) set.set('timeout', p.timeout);
      router.setEntry(set);
    }
  }
}

/** @param {string} a */
function canonical(a) {
  return a.endsWith('/32') ? a.slice(0, -3) : a;
}
