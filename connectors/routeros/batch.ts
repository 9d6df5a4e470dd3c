// Builds the RouterOS script of one bulk-apply batch: one add-or-update line per entry, from validated words only.

export interface BatchEntry {
  list: string;
  address: string;
  timeout: string | undefined;
  comment: string;
}

const WORD = /^[A-Za-z0-9.:/*-]{1,96}$/;

/**
 * `:do { add } on-error={ set [find …] }`: a duplicate add (an entry already there, or a retried batch)
 * updates the existing entry's timeout and comment instead of failing the script or doubling anything.
 */
export function batchScript(entries: BatchEntry[]): string {
  return entries.map((e) => {
    for (const w of [e.list, e.address, e.comment, ...(e.timeout === undefined ? [] : [e.timeout])]) {
      if (!WORD.test(w)) throw new Error(`refusing script word ${JSON.stringify(w.slice(0, 32))}`);
    }
    const t = e.timeout === undefined ? '' : ` timeout=${e.timeout}`;
    return `:do { /ip firewall address-list add list=${e.list} address=${e.address}${t} comment="${e.comment}" }` +
      ` on-error={ /ip firewall address-list set [find list="${e.list}" address="${e.address}"]${t} comment="${e.comment}" }`;
  }).join('\n');
}
