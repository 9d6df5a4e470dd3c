// Fake MDE data: machines, machine actions with Pending → Succeeded transitions, indicators, and the OData `eq` filters.
import { randomUUID } from 'node:crypto';

export interface FakeMachine {
  id: string;
  computerDnsName: string;
  lastIpAddress: string;
  ipAddresses: string[];
  /** Addresses the machine held within findbyip's ±15 min window but no longer has (DHCP churn). */
  recentIps?: string[];
}

export interface FakeAction {
  id: string;
  type: 'Isolate' | 'Unisolate';
  scope: string;
  requestor: string;
  requestorComment: string;
  machineId: string;
  computerDnsName: string;
  created: number;
  reads: number;
  /** When set, the action ends in this state instead of Succeeded. */
  final?: 'Succeeded' | 'Failed' | 'TimeOut' | 'Cancelled';
}

export interface FakeIndicator {
  id: string;
  indicatorValue: string;
  indicatorType: string;
  action: string;
  title: string;
  description: string;
  expirationTime: string | null;
  severity: string | null;
  generateAlert: boolean;
  created: number;
}

export class FakeDefenderState {
  machines: FakeMachine[] = [];
  actions: FakeAction[] = [];
  indicators: FakeIndicator[] = [];
  /** Reads of an action before it is Succeeded (1st read InProgress when > 1). 0: done at the first read. */
  pendingReads = 0;
  private clock = 0;
  private nextIndicatorId = 900;

  /** Strictly increasing creation times: "newest action" is well defined even within one millisecond. */
  tick(): number {
    this.clock = Math.max(Date.now(), this.clock + 1);
    return this.clock;
  }

  statusOf(a: FakeAction, countRead: boolean): string {
    const done = a.reads >= this.pendingReads;
    if (countRead) a.reads += 1;
    if (done) return a.final ?? 'Succeeded';
    return a.reads > 1 ? 'InProgress' : 'Pending';
  }

  addAction(machine: FakeMachine, type: FakeAction['type'], comment: string, scope: string, requestor: string): FakeAction {
    const a: FakeAction = { id: randomUUID(), type, scope, requestor, requestorComment: comment, machineId: machine.id, computerDnsName: machine.computerDnsName, created: this.tick(), reads: 0 };
    this.actions.push(a);
    return a;
  }

  /** The vendor JSON of a machine action; `fresh` = the answer to the POST that created it (always Pending). */
  actionJson(a: FakeAction, fresh = false): Record<string, unknown> {
    const iso = new Date(a.created).toISOString();
    return {
      id: a.id, type: a.type, title: null, requestor: a.requestor, requestorComment: a.requestorComment,
      status: fresh ? 'Pending' : this.statusOf(a, true), machineId: a.machineId, computerDnsName: a.computerDnsName,
      creationDateTimeUtc: iso, lastUpdateDateTimeUtc: iso, cancellationRequestor: null, cancellationComment: null,
      cancellationDateTimeUtc: null, errorHResult: 0, scope: a.scope, externalId: null, requestSource: 'PublicApi',
      relatedFileInfo: null, commands: [], troubleshootInfo: null,
    };
  }

  /** A live (not finished) action of that type on the machine: MDE refuses a second one. */
  activeAction(machineId: string, type: FakeAction['type']): FakeAction | undefined {
    return this.actions.find((a) => a.machineId === machineId && a.type === type && a.reads < this.pendingReads);
  }

  machineJson(m: FakeMachine): Record<string, unknown> {
    return {
      id: m.id, computerDnsName: m.computerDnsName, firstSeen: '2024-01-01T00:00:00Z', lastSeen: new Date().toISOString(),
      osPlatform: 'Windows11', version: '23H2', osProcessor: 'x64', lastIpAddress: m.lastIpAddress, lastExternalIpAddress: '198.51.100.200',
      healthStatus: 'Active', onboardingStatus: 'Onboarded', rbacGroupId: 0, rbacGroupName: null, riskScore: 'None', exposureLevel: 'Low',
      isAadJoined: true, aadDeviceId: null, machineTags: [],
      ipAddresses: m.ipAddresses.map((ip) => ({ ipAddress: ip, macAddress: '000C29AABBCC', type: 'Ethernet', operationalStatus: 'Up' })),
    };
  }

  indicatorJson(i: FakeIndicator): Record<string, unknown> {
    const iso = new Date(i.created).toISOString();
    return {
      id: i.id, indicatorValue: i.indicatorValue, indicatorType: i.indicatorType, action: i.action, application: null,
      source: 'sheriff-app', sourceType: 'AadApp', title: i.title, creationTimeDateTimeUtc: iso, createdBy: 'app',
      expirationTime: i.expirationTime, lastUpdateTime: iso, lastUpdatedBy: 'app', severity: i.severity,
      description: i.description, recommendedActions: null, rbacGroupNames: [], generateAlert: i.generateAlert,
    };
  }

  activeIndicators(): FakeIndicator[] {
    return this.indicators.filter((i) => i.expirationTime === null || Date.parse(i.expirationTime) > Date.now());
  }

  upsertIndicator(body: Record<string, unknown>): FakeIndicator {
    const existing = this.indicators.find((i) => i.indicatorType === body.indicatorType && i.indicatorValue === body.indicatorValue);
    const fields = {
      action: String(body.action), title: String(body.title), description: String(body.description),
      expirationTime: typeof body.expirationTime === 'string' ? new Date(body.expirationTime).toISOString() : null,
      severity: typeof body.severity === 'string' ? body.severity : null, generateAlert: body.generateAlert === true,
    };
    if (existing) return Object.assign(existing, fields);
    const created: FakeIndicator = { id: String(this.nextIndicatorId++), indicatorValue: String(body.indicatorValue), indicatorType: String(body.indicatorType), created: this.tick(), ...fields };
    this.indicators.push(created);
    return created;
  }
}

/** OData `$filter` as MDE accepts it for these lists: `prop eq 'value'` clauses joined by `and`. null = unparseable. */
export function parseEqFilter(filter: string | null): Array<[string, string]> | null {
  if (filter === null || filter.trim() === '') return [];
  const out: Array<[string, string]> = [];
  for (const clause of filter.split(/\s+and\s+/i)) {
    const m = /^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$/.exec(clause);
    if (!m) return null;
    out.push([m[1] as string, (m[2] as string).replace(/''/g, "'")]);
  }
  return out;
}

export function matchesEq(obj: Record<string, unknown>, clauses: Array<[string, string]>, caseInsensitive: string[] = []): boolean {
  return clauses.every(([k, v]) => {
    const have = obj[k];
    if (typeof have !== 'string') return false;
    return caseInsensitive.includes(k) ? have.toLowerCase() === v.toLowerCase() : have === v;
  });
}
