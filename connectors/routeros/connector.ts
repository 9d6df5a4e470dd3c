// The RouterOS connector: one address-list entry per contained device and action, enforced by sheriff-owned filter rules.
import { randomBytes } from 'node:crypto';
import { ActionId, actionNames, checkStep, type EnforcementStep, type Receipt } from '../../src/contracts/action.js';
import type { Connector, ConnectorDeps, Health } from '../../src/contracts/connector.js';
import { ConnectorError, NotResponsibleError, isRetryable } from '../../src/errors.js';
import { RosClient, trapMessage, type ClientOptions, type Row } from './client.js';
import { ENTRY_COMMENT, Planner, entryComment, formatRosDuration, parseRosDuration, parseRuleComment, rosAddress, type Target, type Variant } from './plan.js';
import { batchScript } from './batch.js';

export interface RouterOsSettings extends ClientOptions {
  internal: string[];
  anchorComment?: string;
  listPrefix: string;
  sshPorts: number[];
  batchSize: number;
}

const ADDRESS_LIST = '/ip/firewall/address-list';
const FILTER = '/ip/firewall/filter';

export class RouterOsConnector implements Connector {
  readonly type = 'routeros';
  readonly capabilities = actionNames;
  private readonly client: RosClient;
  private readonly planner: Planner;
  /** Variants whose rules were seen or created on the router; cleared by list(), which re-reads the rules. */
  private readonly ensured = new Map<string, Promise<void>>();

  constructor(readonly name: string, private readonly s: RouterOsSettings, private readonly deps: ConnectorDeps) {
    this.client = new RosClient(name, s);
    this.planner = new Planner(s.listPrefix, s.sshPorts);
  }

  private fail(code: ConstructorParameters<typeof ConnectorError>[1], message: string, opts: ConstructorParameters<typeof ConnectorError>[3] = {}): ConnectorError {
    return new ConnectorError(this.name, code, message, opts);
  }

  async start(): Promise<void> {
    await this.ensureStaticList(this.planner.internalList, this.s.internal.flatMap((c) => { try { return [rosAddress(c)]; } catch { return []; } }), 'sheriff:internal');
    for (const v of this.planner.defaultVariants()) await this.ensureVariant(v);
    await this.removeLeftoverScripts();
  }

  async healthcheck(): Promise<Health> {
    try {
      const [row] = await this.client.run('/system/identity/print');
      return { ok: true, detail: `RouterOS API ${this.s.tls ? 'api-ssl' : 'api'} at ${this.s.host}:${this.s.port} answers (identity ${JSON.stringify(row?.name ?? '?')})` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  /** Re-validates a step (it may come from anywhere) and maps it to RouterOS objects. */
  private target(input: EnforcementStep): { step: EnforcementStep; target: Target } {
    const checked = checkStep(input);
    if ('problem' in checked) throw this.fail('VALIDATION', `refusing it: ${checked.problem}`);
    const { step } = checked;
    if (step.device.ip.includes(':') || (step.action === 'block-endpoint' && step.params.ip.includes(':'))) {
      throw new NotResponsibleError(this.name, 'this connector enforces IPv4 only (the /ip firewall); IPv6 devices and endpoints are not covered');
    }
    if (step.expiresAt !== null && step.expiresAt <= Date.now()) throw this.fail('VALIDATION', `step for ${step.actionId} has already expired`);
    return { step, target: this.planner.plan(step) };
  }

  private receipt(step: EnforcementStep, t: Target, timeout: string | undefined): Receipt {
    return {
      connector: this.name, actionId: step.actionId, action: step.action,
      key: `${t.variant.list}|${t.address}`, status: 'enforced',
      detail: `address-list ${t.variant.list} ${t.address}${timeout ? ` timeout ${timeout}` : ''}`,
      expiresAt: step.expiresAt, data: { list: t.variant.list, address: t.address },
    };
  }

  private timeoutFor(step: EnforcementStep): string | undefined {
    return step.expiresAt === null ? undefined : formatRosDuration((step.expiresAt - Date.now()) / 1000);
  }

  async apply(input: EnforcementStep): Promise<Receipt> {
    const { step, target } = this.target(input);
    await this.ensureVariant(target.variant);
    const timeout = this.timeoutFor(step);
    await this.upsert(target.variant.list, target.address, entryComment(step.actionId), timeout);
    this.deps.log.info({ connector: this.name, action: step.action, device: step.device.ip, actionId: step.actionId, list: target.variant.list }, 'routeros: enforced');
    return this.receipt(step, target, timeout);
  }

  private async findEntry(list: string, address: string): Promise<Row | undefined> {
    const rows = await this.client.run(`${ADDRESS_LIST}/print`, { '.proplist': '.id,address,timeout,comment' }, { list, address });
    return rows[0];
  }

  /** Adds the entry, or moves its timeout and comment when it is there already (that is how extend works). */
  private async upsert(list: string, address: string, comment: string, timeout: string | undefined): Promise<void> {
    let row = await this.findEntry(list, address);
    if (row && (row.timeout === undefined) !== (timeout === undefined)) {
      // RouterOS cannot turn a timed entry into a permanent one by `set`: replace it.
      await this.removeId(`${ADDRESS_LIST}/remove`, row['.id']);
      row = undefined;
    }
    if (!row) {
      try {
        await this.client.run(`${ADDRESS_LIST}/add`, { list, address, comment, ...(timeout ? { timeout } : {}) });
        return;
      } catch (err) {
        if (!/already have such entry/.test(trapMessage(err) ?? '')) throw err;
        row = await this.findEntry(list, address);
        if (!row) throw err;
      }
    }
    await this.client.run(`${ADDRESS_LIST}/set`, { '.id': rowId(row), comment, ...(timeout ? { timeout } : {}) });
  }

  private async removeId(command: string, id: string | undefined): Promise<void> {
    if (!id) return;
    try {
      await this.client.run(command, { '.id': id });
    } catch (err) {
      if (!/no such item/.test(trapMessage(err) ?? '')) throw err;
    }
  }

  /** Validates a receipt handed back by the ledger before any of it becomes a RouterOS word. */
  private entryOf(receipt: Receipt): { list: string; address: string; comment: string } | null {
    const [list = '', address = '', ...rest] = receipt.key.split('|');
    if (rest.length || !this.planner.isOwnList(list) || !ActionId.safeParse(receipt.actionId).success) return null;
    try {
      return { list, address: rosAddress(address), comment: entryComment(receipt.actionId) };
    } catch {
      return null;
    }
  }

  async revert(receipt: Receipt): Promise<void> {
    const e = this.entryOf(receipt);
    if (!e) return;
    const row = await this.findEntry(e.list, e.address);
    // Only the action that owns the entry lifts it: another action may have taken it over since.
    if (row?.comment === e.comment) await this.removeId(`${ADDRESS_LIST}/remove`, row['.id']);
  }

  async verify(receipt: Receipt): Promise<boolean> {
    const e = this.entryOf(receipt);
    if (!e) return false;
    const row = await this.findEntry(e.list, e.address);
    return row?.comment === e.comment && (row.timeout === undefined || (parseRosDuration(row.timeout) ?? 0) > 0);
  }

  async list(): Promise<Receipt[]> {
    const rules = await this.client.run(`${FILTER}/print`, { '.proplist': '.id,chain,comment' });
    this.ensured.clear();
    const lists = new Map<string, Receipt['action']>();
    for (const r of rules) {
      const parsed = parseRuleComment(r.comment);
      if (parsed && this.planner.isOwnList(parsed.list)) lists.set(parsed.list, parsed.action);
    }
    const out: Receipt[] = [];
    const now = Date.now();
    for (const [list, action] of lists) {
      const rows = await this.client.run(`${ADDRESS_LIST}/print`, { '.proplist': '.id,address,timeout,comment' }, { list });
      for (const row of rows) {
        const m = ENTRY_COMMENT.exec(row.comment ?? '');
        if (!m || !row.address) continue;
        const secs = row.timeout === undefined ? null : parseRosDuration(row.timeout);
        out.push({
          connector: this.name, actionId: m[1] as string, action, key: `${list}|${row.address}`, status: 'enforced',
          detail: `address-list ${list} ${row.address}${row.timeout ? ` timeout ${row.timeout}` : ''}`,
          expiresAt: secs === null ? null : now + secs * 1000, data: { list, address: row.address },
        });
      }
    }
    return out;
  }

  /** Creates the variant's lists and rules when absent; concurrent callers share one attempt. */
  private ensureVariant(v: Variant): Promise<void> {
    let p = this.ensured.get(v.list);
    if (!p) {
      p = this.createVariant(v).catch((err: unknown) => { this.ensured.delete(v.list); throw err; });
      this.ensured.set(v.list, p);
    }
    return p;
  }

  private async createVariant(v: Variant): Promise<void> {
    for (const l of v.staticLists) await this.ensureStaticList(l.name, l.addresses, 'sheriff:allow');
    const rules = await this.client.run(`${FILTER}/print`, { '.proplist': '.id,chain,comment,dynamic' });
    const byComment = new Map<string, Row[]>();
    for (const r of rules) if (r.comment) byComment.set(r.comment, [...(byComment.get(r.comment) ?? []), r]);
    // Two sheriff processes starting at once may both have added a rule: keep the first.
    for (const dupes of byComment.values()) {
      if (dupes.length > 1 && parseRuleComment(dupes[0]?.comment)) {
        for (const d of dupes.slice(1)) await this.removeId(`${FILTER}/remove`, d['.id']);
      }
    }
    const own = v.rules.filter((r) => r.chain !== 'forward');
    if (own.some((r) => !byComment.has(r.comment))) {
      // Order inside our own chain matters (return under the limit, then drop): rebuild it whole.
      for (const r of own) for (const row of byComment.get(r.comment) ?? []) await this.removeId(`${FILTER}/remove`, row['.id']);
      for (const r of own) await this.client.run(`${FILTER}/add`, { ...r.words, comment: r.comment });
    }
    const forward = rules.filter((r) => r.chain === 'forward');
    const anchor = this.s.anchorComment === undefined ? undefined : forward.find((r) => r.comment === this.s.anchorComment);
    if (this.s.anchorComment !== undefined && !anchor) {
      throw this.fail('CONNECTOR_REJECTED', `no rule with comment "${this.s.anchorComment}" in /ip firewall filter chain=forward (anchorComment)`);
    }
    const top = anchor ?? forward.find((r) => r.dynamic !== 'true');
    for (const r of v.rules.filter((x) => x.chain === 'forward')) {
      const existing = byComment.get(r.comment)?.[0];
      if (!existing) {
        await this.client.run(`${FILTER}/add`, { ...r.words, comment: r.comment, ...(top ? { 'place-before': rowId(top) } : {}) });
      } else if (anchor && forward.indexOf(existing) > forward.indexOf(anchor)) {
        await this.client.run(`${FILTER}/move`, { numbers: rowId(existing), destination: rowId(anchor) });
      }
    }
  }

  /** Makes a static list hold exactly `addresses` among the entries carrying `comment`. */
  private async ensureStaticList(list: string, addresses: string[], comment: string): Promise<void> {
    const rows = await this.client.run(`${ADDRESS_LIST}/print`, { '.proplist': '.id,address,comment' }, { list });
    const have = new Set(rows.map((r) => r.address));
    for (const a of addresses) if (!have.has(a)) await this.upsert(list, a, comment, undefined);
    for (const r of rows) if (r.comment === comment && r.address && !addresses.includes(r.address)) await this.removeId(`${ADDRESS_LIST}/remove`, r['.id']);
  }

  private batchPrefix(): string {
    return `${this.s.listPrefix}-batch-`;
  }

  private async removeLeftoverScripts(): Promise<void> {
    const scripts = await this.client.run('/system/script/print', { '.proplist': '.id,name' });
    for (const s of scripts) if (s.name?.startsWith(this.batchPrefix())) await this.removeId('/system/script/remove', s['.id']);
  }

  /**
   * Bulk apply: entries go in temporary `/system/script` runs of `batchSize` add-or-update lines each, as the
   * CrowdSec bouncer does (one API round trip per batch instead of per entry). A batch is idempotent, so a
   * dropped connection retries it whole; what is still missing afterwards is applied one by one.
   */
  async applyMany(inputs: EnforcementStep[]): Promise<Receipt[]> {
    const planned = inputs.map((i) => this.target(i));
    for (const v of new Map(planned.map((p) => [p.target.variant.list, p.target.variant])).values()) await this.ensureVariant(v);
    const items = planned.map(({ step, target }) => ({ step, target, timeout: this.timeoutFor(step), comment: entryComment(step.actionId) }));
    for (let i = 0; i < items.length; i += this.s.batchSize) {
      const chunk = items.slice(i, i + this.s.batchSize);
      await this.withRetry(() => this.runBatch(batchScript(chunk.map((c) => ({ list: c.target.variant.list, address: c.target.address, timeout: c.timeout, comment: c.comment })))));
    }
    const present = new Map<string, Map<string, string | undefined>>();
    for (const list of new Set(items.map((c) => c.target.variant.list))) {
      const rows = await this.client.run(`${ADDRESS_LIST}/print`, { '.proplist': 'address,comment' }, { list });
      present.set(list, new Map(rows.map((r) => [r.address ?? '', r.comment])));
    }
    const receipts: Receipt[] = [];
    for (const c of items) {
      if (present.get(c.target.variant.list)?.get(c.target.address) !== c.comment) {
        receipts.push(await this.apply(c.step));
      } else {
        receipts.push(this.receipt(c.step, c.target, c.timeout));
      }
    }
    this.deps.log.info({ connector: this.name, count: receipts.length }, 'routeros: bulk apply done');
    return receipts;
  }

  private async withRetry<T>(f: () => Promise<T>, attempts = 4): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await f();
      } catch (err) {
        if (n >= attempts || !isRetryable(err)) throw err;
        const retryAt = (err as ConnectorError).retryAt;
        await new Promise((r) => setTimeout(r, Math.max(50 * n, Math.min(5_000, (retryAt ?? 0) - Date.now()))));
        this.deps.log.warn({ connector: this.name, attempt: n, err: (err as Error).message }, 'routeros: retrying batch');
        await this.removeLeftoverScripts().catch(() => undefined);
      }
    }
  }

  private async runBatch(source: string): Promise<void> {
    const name = `${this.batchPrefix()}${randomBytes(6).toString('hex')}`;
    const [added] = await this.client.run('/system/script/add', { name, source, policy: 'read,write' });
    const id = added?.ret;
    if (!id) throw this.fail('CONNECTOR_REJECTED', 'the router did not return the id of the batch script');
    try {
      await this.client.run('/system/script/run', { '.id': id }, {}, Math.max(this.s.timeoutMs, 30_000));
    } finally {
      await this.removeId('/system/script/remove', id).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function rowId(row: Row): string {
  return row['.id'] ?? '';
}
