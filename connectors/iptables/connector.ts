// The iptables/ipset connector: per-action sets with kernel timeouts, one sheriff-owned chain per family, serialised changes.
import { z } from 'zod';
import { ActionId, actionNames, checkStep, paramsSchemas, type ActionName, type EnforcementStep, type Receipt } from '../../src/contracts/action.js';
import type { Connector, ConnectorDeps, Health } from '../../src/contracts/connector.js';
import { parseHostIp } from '../../src/contracts/net.js';
import { ConnectorError } from '../../src/errors.js';
import { classify, execRunner, type RunResult, type Runner } from './exec.js';
import type { IptablesOptions } from './options.js';
import { chainRestoreText, createLine, fixedSetSpecs, groupDataLines, groupSetSpecs, hookChains } from './rules.js';
import { entryTimeout, groupRef, makeNames, parseGroupSetName, plan, type Family, type GroupRef, type Names, type Planned } from './sets.js';
import { parseSave, receiptKey, receiptsFromSaved } from './state.js';

export const IPTABLES_CONNECTOR = 'iptables';

type Tool = 'ipset' | 'iptables' | 'ip6tables' | 'iptablesRestore' | 'ip6tablesRestore';
const defaultBins: Record<Tool | 'ip', string> = {
  ip: 'ip', ipset: 'ipset', iptables: 'iptables', ip6tables: 'ip6tables', iptablesRestore: 'iptables-restore', ip6tablesRestore: 'ip6tables-restore',
};

const ReceiptData = z.object({ device: z.string().max(64), params: z.record(z.string(), z.unknown()) });

export class IptablesConnector implements Connector {
  readonly type = IPTABLES_CONNECTOR;
  readonly capabilities = actionNames;
  private readonly names: Names;
  private readonly families: Family[];
  private readonly groups = new Map<string, GroupRef>();
  private queue: Promise<unknown> = Promise.resolve();
  private started = false;

  constructor(readonly name: string, private readonly opts: IptablesOptions, private readonly deps: ConnectorDeps, private readonly runner: Runner = execRunner) {
    this.names = makeNames(opts.prefix, opts.hook);
    this.families = opts.ipv6 ? [4, 6] : [4];
  }

  /** One change at a time: set contents and the chain are rebuilt from what the previous change left. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async run(tool: Tool, args: string[], input?: string): Promise<RunResult> {
    const bin = this.opts.binaries[tool] ?? defaultBins[tool];
    const [file, argv] = this.opts.netns
      ? [this.opts.binaries.ip ?? defaultBins.ip, ['netns', 'exec', this.opts.netns, bin, ...args]]
      : [bin, args];
    try {
      return await this.runner(file, argv, input);
    } catch (err) {
      throw classify(this.name, `${bin} ${args[0] ?? ''}`.trim(), err as NodeJS.ErrnoException);
    }
  }

  private async must(tool: Tool, args: string[], input?: string): Promise<RunResult> {
    const r = await this.run(tool, args, input);
    if (r.code !== 0) throw classify(this.name, `${tool} ${args.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ')}`.trim(), r);
    return r;
  }

  private ipt(f: Family, restore = false): Tool {
    if (restore) return f === 4 ? 'iptablesRestore' : 'ip6tablesRestore';
    return f === 4 ? 'iptables' : 'ip6tables';
  }

  private wait(): string[] {
    return ['-w', String(this.opts.lockWait)];
  }

  async start(): Promise<void> {
    await this.serial(() => this.doStart());
  }

  private async doStart(): Promise<void> {
    const lines: string[] = [];
    for (const f of this.families) {
      for (const s of fixedSetSpecs(this.names, f)) lines.push(createLine(s, this.opts.maxelem));
      // The internal list is replaced atomically (swap) so a restart with new options never leaves it half filled.
      const int = this.names.internal(f);
      const tmp = `${int}n`;
      lines.push(createLine({ name: int, type: 'hash:net', family: f, timed: false }, 4096));
      lines.push(createLine({ name: tmp, type: 'hash:net', family: f, timed: false }, 4096), `flush ${tmp}`);
      for (const c of this.opts.internal) if (c.includes(':') === (f === 6)) lines.push(`add ${tmp} ${c}`);
      lines.push(`swap ${tmp} ${int}`, `destroy ${tmp}`);
    }
    await this.must('ipset', ['-exist', 'restore'], `${lines.join('\n')}\n`);
    const listed = await this.must('ipset', ['list', '-n']);
    for (const set of listed.stdout.split('\n')) {
      const g = parseGroupSetName(this.names, set.trim());
      if (g && this.families.includes(g.family)) this.groups.set(g.member, g);
    }
    for (const f of this.families) {
      await this.rebuildChain(f);
      for (const hook of hookChains(this.opts.hook)) {
        const present = await this.run(this.ipt(f), [...this.wait(), '-C', hook, '-j', this.names.chain]);
        if (present.code === 0) continue;
        await this.must(this.ipt(f), [...this.wait(), '-I', hook, '1', '-j', this.names.chain]);
      }
    }
    this.started = true;
  }

  /** Replaces only sheriff's chain, atomically; built-in chains and other chains are untouched (--noflush). */
  private async rebuildChain(f: Family): Promise<void> {
    await this.must(this.ipt(f, true), [...this.wait(), '--noflush'], chainRestoreText(this.names, f, [...this.groups.values()]));
  }

  async healthcheck(): Promise<Health> {
    try {
      await this.must('ipset', ['list', '-n']);
      const missing: string[] = [];
      for (const f of this.families) {
        await this.must(this.ipt(f), [...this.wait(), '-S', hookChains(this.opts.hook)[0] as string]);
        if (!this.started) continue;
        for (const hook of hookChains(this.opts.hook)) {
          const r = await this.run(this.ipt(f), [...this.wait(), '-C', hook, '-j', this.names.chain]);
          if (r.code !== 0) missing.push(`${f === 4 ? 'iptables' : 'ip6tables'} ${hook} → ${this.names.chain}`);
        }
      }
      if (missing.length) return { ok: false, detail: `jump missing (someone removed it; restart or call start()): ${missing.join(', ')}` };
      return { ok: true, detail: `ipset + iptables${this.opts.ipv6 ? ' + ip6tables' : ''} reachable${this.opts.netns ? ` in netns ${this.opts.netns}` : ''}; chain ${this.names.chain}, sets ${this.names.prefix}-*` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  /** Validates a step (hostile values stop here, before any exec) and plans its set entries. */
  private prepare(input: unknown): { step: EnforcementStep; planned: Planned[] } {
    const checked = checkStep(input);
    if ('problem' in checked) throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', checked.problem, { retryable: false });
    const { step } = checked;
    const device = step.action === 'block-endpoint' && step.params.scope === 'all' ? '*' : step.device.ip;
    let planned: Planned[];
    try {
      planned = plan(this.names, step.action, device, step.params as never);
    } catch (err) {
      throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', (err as Error).message, { retryable: false });
    }
    for (const p of planned) {
      if (!this.families.includes(p.family)) throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', 'IPv6 is disabled for this connector (ipv6: false)', { retryable: false });
    }
    return { step, planned };
  }

  async apply(step: EnforcementStep): Promise<Receipt> {
    return (await this.applyMany([step]))[0] as Receipt;
  }

  /** Adds every entry of every step with one `ipset restore`: the cost of a step does not grow with the set. */
  async applyMany(steps: EnforcementStep[]): Promise<Receipt[]> {
    const prepared = steps.map((s) => this.prepare(s));
    return this.serial(async () => {
      if (!this.started) await this.doStart();
      await this.ensureGroups(prepared.flatMap((p) => p.planned));
      const now = Date.now();
      const lines: string[] = [];
      const dataLines = new Set<string>();
      for (const { step, planned } of prepared) {
        const timeout = entryTimeout(step.expiresAt, now, this.opts.timeoutMargin);
        for (const p of planned) {
          if (p.group) for (const l of groupDataLines(this.names, p.group)) dataLines.add(l);
          lines.push(`add ${p.set} ${p.element} timeout ${timeout} comment "${step.actionId}"`);
        }
      }
      await this.must('ipset', ['-exist', 'restore'], `${[...dataLines, ...lines].join('\n')}\n`);
      return prepared.map(({ step, planned }) => this.receipt(step, planned, entryTimeout(step.expiresAt, now, this.opts.timeoutMargin)));
    });
  }

  private receipt(step: EnforcementStep, planned: Planned[], timeout: number): Receipt {
    const device = step.action === 'block-endpoint' && step.params.scope === 'all' ? '*' : step.device.ip;
    const sets = [...new Set(planned.map((p) => p.set))];
    return {
      connector: this.name,
      actionId: step.actionId,
      action: step.action,
      key: receiptKey(step.action, device, step.actionId),
      status: 'enforced',
      detail: `${planned.length} entr${planned.length === 1 ? 'y' : 'ies'} in ${sets.join(', ')}${timeout ? ` (kernel timeout ${timeout} s)` : ' (no kernel timeout)'}`,
      expiresAt: step.expiresAt,
      data: { device, params: step.params, entries: planned.map((p) => `${p.set} ${p.element}`) },
    };
  }

  /** Creates the sets of groups seen for the first time and adds their rules to the chain. */
  private async ensureGroups(planned: Planned[]): Promise<void> {
    const fresh = new Map<string, NonNullable<Planned['group']>>();
    for (const p of planned) if (p.group && !this.groups.has(p.set)) fresh.set(p.set, p.group);
    if (fresh.size === 0) return;
    const lines = [...fresh.values()].flatMap((g) => groupSetSpecs(this.names, g).map((s) => createLine(s, this.opts.maxelem)));
    const data = [...fresh.values()].flatMap((g) => groupDataLines(this.names, g));
    await this.must('ipset', ['-exist', 'restore'], `${[...lines, ...data].join('\n')}\n`);
    for (const [set, g] of fresh) this.groups.set(set, groupRef(this.names, g));
    for (const f of new Set([...fresh.values()].map((g) => g.family))) await this.rebuildChain(f);
  }

  /** The entries a receipt stands for, recomputed from validated parts of it; null when the receipt cannot be trusted. */
  private entriesOf(receipt: Receipt): Planned[] | null {
    const [action, device, actionId, ...rest] = receipt.key.split('|');
    if (rest.length || !actionNames.includes(action as ActionName) || !ActionId.safeParse(actionId).success) return null;
    const data = ReceiptData.safeParse(receipt.data);
    if (!data.success || data.data.device !== device) return null;
    if (device !== '*') {
      const ip = parseHostIp(device ?? '');
      if ('error' in ip || ip.ip !== device) return null;
    }
    const params = paramsSchemas[action as ActionName].safeParse(data.data.params);
    if (!params.success) return null;
    try {
      return plan(this.names, action as ActionName, device as string, params.data as never);
    } catch {
      return null;
    }
  }

  async revert(receipt: Receipt): Promise<void> {
    // Validation first: a receipt that cannot be trusted never shapes a command; its entries are then found by action id.
    const planned = this.entriesOf(receipt)?.map((p) => `${p.set} ${p.element}`);
    if (!planned && !ActionId.safeParse(receipt.actionId).success) return;
    await this.serial(async () => {
      let entries = planned;
      if (!entries) {
        const all = await this.listNow();
        entries = all.filter((r) => r.actionId === receipt.actionId && r.key === receipt.key).flatMap((r) => (r.data.entries as string[]));
      }
      const known = new Set((await this.must('ipset', ['list', '-n'])).stdout.split('\n').map((s) => s.trim()));
      const lines = entries.filter((e) => known.has(e.split(' ')[0] as string)).map((e) => `del ${e}`);
      if (lines.length) await this.must('ipset', ['-exist', 'restore'], `${lines.join('\n')}\n`);
    });
  }

  async verify(receipt: Receipt): Promise<boolean> {
    const entries = this.entriesOf(receipt);
    if (!entries) return (await this.list()).some((r) => r.key === receipt.key);
    return this.serial(async () => {
      for (const p of entries) {
        const r = await this.run('ipset', ['test', p.set, p.element]);
        if (r.code !== 0) return false;
      }
      return true;
    });
  }

  async list(): Promise<Receipt[]> {
    return this.serial(() => this.listNow());
  }

  private async listNow(): Promise<Receipt[]> {
    const saved = parseSave((await this.must('ipset', ['save'])).stdout, this.names.prefix);
    return receiptsFromSaved(saved, this.names, this.name, this.opts.timeoutMargin, Date.now());
  }

  /** Enforcement stays in the kernel (with its own timeouts); nothing to release. */
  async close(): Promise<void> {
    await this.queue;
  }
}
