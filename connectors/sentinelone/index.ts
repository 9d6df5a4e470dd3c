// The `sentinelone` connector: quarantines a device by disconnecting its SentinelOne agent from the network.
import { ActionId, checkStep, QueryHostname, type EnforcementStep, type Receipt } from '../../src/contracts/action.js';
import type { Connector, ConnectorDeps, ConnectorModule, Health } from '../../src/contracts/connector.js';
import { parseHostIp } from '../../src/contracts/net.js';
import { ConnectorError, NotResponsibleError } from '../../src/errors.js';
import { S1Client } from './client.js';
import {
  Affected, type Agent, AgentId, AgentsPage, formatMarks, isDisconnected, type Marks, parseMarks,
  SentinelOneOptions,
} from './s1.js';

export const SENTINELONE_CONNECTOR = 'sentinelone';
const capabilities = ['quarantine-device'] as const;
const AGENTS = '/web/api/v2.1/agents';
const PAGE = 1000;
/** Substring search can return many near-misses (10.0.0.5 → 10.0.0.50…); stop paging well before a tenant dump. */
const MAX_LOOKUP_PAGES = 10;

type QuarantineStep = Extract<EnforcementStep, { action: 'quarantine-device' }>;

class SentinelOneConnector implements Connector {
  readonly type = SENTINELONE_CONNECTOR;
  readonly capabilities = capabilities;
  private readonly client: S1Client;
  private readonly scope: Record<string, string | undefined>;

  constructor(readonly name: string, options: SentinelOneOptions, private readonly deps: ConnectorDeps) {
    this.client = new S1Client(name, { baseUrl: options.baseUrl, apiToken: options.apiToken, timeoutMs: options.timeoutMs });
    this.scope = { siteIds: options.siteIds?.join(','), accountIds: options.accountIds?.join(',') };
  }

  async start(): Promise<void> {}

  async healthcheck(): Promise<Health> {
    try {
      await this.client.request('GET', AGENTS, AgentsPage, { query: { ...this.scope, limit: '1' } });
      return { ok: true, detail: 'SentinelOne API reachable; token accepted for agent reads' };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async apply(input: EnforcementStep): Promise<Receipt> {
    const step = this.validate(input);
    const agent = await this.lookup(step.device.ip, step.device.hostname);
    const marks = parseMarks(agent.externalId);

    if (isDisconnected(agent.networkStatus)) {
      if (marks && (marks.owners.includes(step.actionId) || marks.observers.includes(step.actionId))) {
        return this.receipt(step, agent, marks.observers.includes(step.actionId) && !marks.owners.includes(step.actionId));
      }
      // Disconnected already: by another sheriff action (share it) or by someone else (never ours to reconnect).
      const preexisting = !marks || marks.owners.length === 0;
      if (marks) {
        await this.setMarks(agent.id, preexisting ? { ...marks, observers: [...marks.observers, step.actionId] } : { ...marks, owners: [...marks.owners, step.actionId] });
      } else {
        this.deps.log.warn({ connector: this.name, agentId: agent.id }, 'agent externalId is not sheriff\'s; preexisting disconnect not recorded there');
      }
      return this.receipt(step, agent, preexisting);
    }

    if (!marks) {
      throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `agent ${agent.id} has an externalId sheriff does not own; refusing to overwrite it (sheriff records ownership there)`);
    }
    // Connected: earlier marks describe nothing enforced. Mark before disconnecting so that a crash between the
    // two never leaves a sheriff disconnect that looks foreign.
    await this.setMarks(agent.id, { owners: [step.actionId], observers: [] }, agent.externalId);
    const r = await this.client.request('POST', `${AGENTS}/actions/disconnect`, Affected, { body: { filter: { ids: [agent.id] } } });
    if (r.data.affected < 1) throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `SentinelOne disconnected no agent for id ${agent.id}`);
    this.deps.log.info({ connector: this.name, agentId: agent.id, actionId: step.actionId }, 'sentinelone network disconnect requested');
    const after = (await this.read(agent.id)) ?? { ...agent, networkStatus: 'disconnecting' };
    return this.receipt(step, after, false);
  }

  async revert(receipt: Receipt): Promise<void> {
    const ref = this.ref(receipt);
    if (!ref) return;
    const agent = await this.read(ref.agentId);
    const marks = agent ? parseMarks(agent.externalId) : null;
    if (!agent || !marks) return;
    const remaining: Marks = { owners: marks.owners.filter((a) => a !== ref.actionId), observers: marks.observers.filter((a) => a !== ref.actionId) };
    if (!marks.owners.includes(ref.actionId)) {
      if (marks.observers.includes(ref.actionId)) await this.setMarks(agent.id, remaining, agent.externalId);
      return; // not disconnected by this action: someone else's, or already gone
    }
    if (remaining.owners.length === 0 && isDisconnected(agent.networkStatus)) {
      await this.client.request('POST', `${AGENTS}/actions/connect`, Affected, { body: { filter: { ids: [agent.id] } } });
      this.deps.log.info({ connector: this.name, agentId: agent.id, actionId: ref.actionId }, 'sentinelone network reconnect requested');
    }
    // Unmark only after the reconnect was accepted: a failed reconnect keeps the agent listed as sheriff's.
    await this.setMarks(agent.id, remaining, agent.externalId);
  }

  async verify(receipt: Receipt): Promise<boolean> {
    const ref = this.ref(receipt);
    if (!ref) return false;
    const agent = await this.read(ref.agentId);
    if (!agent || agent.networkStatus !== 'disconnected') return false;
    if (receipt.data.preexisting === true && !parseMarks(agent.externalId)) return true;
    const marks = parseMarks(agent.externalId);
    return !!marks && (marks.owners.includes(ref.actionId) || marks.observers.includes(ref.actionId));
  }

  async list(): Promise<Receipt[]> {
    const out: Receipt[] = [];
    for await (const agent of this.agents({ networkStatuses: 'disconnected,disconnecting' })) {
      const marks = parseMarks(agent.externalId);
      if (!marks || !isDisconnected(agent.networkStatus)) continue;
      for (const a of marks.owners) out.push(this.listed(agent, a, false));
      for (const a of marks.observers) if (!marks.owners.includes(a)) out.push(this.listed(agent, a, true));
    }
    return out;
  }

  async close(): Promise<void> {}

  /** Re-validates everything that can reach SentinelOne; nothing hostile gets past this point. */
  private validate(input: EnforcementStep): QuarantineStep {
    const checked = checkStep(input, { strict: true });
    if ('problem' in checked) throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', checked.problem);
    const { step } = checked;
    if (step.action !== 'quarantine-device') {
      throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `${step.action} is not something SentinelOne can enforce per agent`);
    }
    return step;
  }

  /** networkInterfaceInet__contains is a substring match: keep only agents with exactly this address. */
  private async lookup(ip: string, hostname: string | undefined): Promise<Agent> {
    const parsed = parseHostIp(ip);
    if ('error' in parsed) throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', 'device ip is not a host address');
    const query = { networkInterfaceInet__contains: parsed.ip, computerName: hostname === undefined ? undefined : QueryHostname.parse(hostname) };
    const hits: Agent[] = [];
    for await (const agent of this.agents(query, MAX_LOOKUP_PAGES)) {
      if (agent.isDecommissioned) continue;
      const addrs = (agent.networkInterfaces ?? []).flatMap((n) => [...(n.inet ?? []), ...(n.inet6 ?? [])]);
      const exact = addrs.some((a) => {
        const p = parseHostIp(a.split('/')[0] ?? '');
        return !('error' in p) && p.ip === parsed.ip;
      });
      if (exact && (!hostname || (agent.computerName ?? '').toLowerCase() === hostname.toLowerCase())) hits.push(agent);
    }
    const label = hostname ? `${parsed.ip} (${hostname})` : parsed.ip;
    if (hits.length === 0) throw new NotResponsibleError(this.name, `no SentinelOne agent has interface address ${label}`);
    if (hits.length > 1) {
      throw new ConnectorError(this.name, 'CONNECTOR_AMBIGUOUS', `${hits.length} SentinelOne agents match ${label}: ${hits.map((a) => a.id).join(', ')}`, {
        details: { agentIds: hits.map((a) => a.id) },
      });
    }
    return hits[0] as Agent;
  }

  private async *agents(filter: Record<string, string | undefined>, maxPages = Infinity): AsyncGenerator<Agent> {
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const r = await this.client.request('GET', AGENTS, AgentsPage, { query: { ...this.scope, ...filter, limit: String(PAGE), cursor } });
      for (const agent of r.data) yield agent;
      cursor = r.pagination?.nextCursor ?? undefined;
      if (!cursor) return;
    }
    throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `more than ${maxPages * PAGE} agents match; refusing to guess`);
  }

  private async read(agentId: string): Promise<Agent | undefined> {
    const r = await this.client.request('GET', AGENTS, AgentsPage, { query: { ...this.scope, ids: AgentId.parse(agentId) } });
    return r.data.find((a) => a.id === agentId);
  }

  private async setMarks(agentId: string, marks: Marks, current?: string | null): Promise<void> {
    const externalId = formatMarks(marks);
    if (externalId === (current ?? '')) return;
    await this.client.request('POST', `${AGENTS}/actions/set-external-id`, Affected, { body: { filter: { ids: [agentId] }, data: { externalId } } });
  }

  private ref(receipt: Receipt): { agentId: string; actionId: string } | null {
    const m = /^sentinelone:(\d{1,24})$/.exec(receipt.key);
    if (!m || !ActionId.safeParse(receipt.actionId).success) return null;
    return { agentId: m[1] as string, actionId: receipt.actionId };
  }

  private receipt(step: QuarantineStep, agent: Agent, preexisting: boolean): Receipt {
    const allow = step.params.allow;
    const notes = [
      preexisting ? `SentinelOne agent ${agent.id} was already disconnected by someone else; sheriff will not reconnect it`
        : `SentinelOne agent ${agent.id} network disconnect (${agent.networkStatus ?? 'unknown'})`,
      allow.length ? `allow ${allow.join(', ')} not applied per agent: SentinelOne's network-quarantine exceptions are a policy setting` : '',
    ].filter(Boolean);
    return {
      connector: this.name,
      actionId: step.actionId,
      action: 'quarantine-device',
      key: `sentinelone:${agent.id}`,
      status: agent.networkStatus === 'disconnected' ? 'enforced' : 'pending',
      detail: notes.join('; '),
      expiresAt: step.expiresAt,
      data: { agentId: agent.id, computerName: agent.computerName ?? null, vendorStatus: agent.networkStatus ?? null, preexisting, allowNotApplied: allow },
    };
  }

  private listed(agent: Agent, actionId: string, preexisting: boolean): Receipt {
    return {
      connector: this.name,
      actionId,
      action: 'quarantine-device',
      key: `sentinelone:${agent.id}`,
      status: agent.networkStatus === 'disconnected' ? 'enforced' : 'pending',
      detail: `SentinelOne agent ${agent.id} ${agent.networkStatus ?? ''}${preexisting ? ' (disconnected before sheriff acted)' : ''}`,
      // SentinelOne has no disconnect timeout: expiry is sheriff's own expire job.
      expiresAt: null,
      data: { agentId: agent.id, computerName: agent.computerName ?? null, vendorStatus: agent.networkStatus ?? null, preexisting },
    };
  }
}

export const sentineloneConnector: ConnectorModule<SentinelOneOptions> = {
  type: SENTINELONE_CONNECTOR,
  description: 'SentinelOne: quarantines a device by disconnecting its agent from the network (reconnect on revert).',
  capabilities,
  privileges: 'Service-user API token whose role may view endpoints, Disconnect From Network / Reconnect To Network, and set the endpoint External ID, on the configured sites/accounts.',
  optionsSchema: SentinelOneOptions,
  create: (name, options, deps) => new SentinelOneConnector(name, options, deps),
};
