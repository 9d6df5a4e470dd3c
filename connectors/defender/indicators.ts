// block-endpoint through MDE IP indicators (tenant-wide, whole IP): submit/update, delete, read, recover sheriff's own.
import type { EnforcementStep, Receipt } from '../../src/contracts/action.js';
import { parseCidr } from '../../src/contracts/net.js';
import { ConnectorError } from '../../src/errors.js';
import { VendorHttpError, type DefenderClient } from './client.js';
import { Indicator, actionIdFromComment, sheriffComment } from './schemas.js';

type BlockStep = Extract<EnforcementStep, { action: 'block-endpoint' }>;

const BLOCKING = ['Block', 'AlertAndBlock', 'BlockAndRemediate'];
const SCOPE_NOTE = 'Defender indicators apply to every onboarded device (tenant-wide)';
const ENFORCE_NOTE = 'devices enforce it through network protection (block mode); the indicator reaches them within minutes to hours';

export const indicatorKey = (ip: string) => `defender:ioc:${ip}`;

export interface IndicatorDeps {
  client: DefenderClient;
  connector: string;
}

/**
 * MDE indicators take one address, no CIDR: only a /32 or /128 passes. Parsed as a CIDR, not a device address:
 * documentation and other reserved ranges are legitimate external endpoints here.
 */
export function indicatorIp(connector: string, cidr: string): string {
  const parsed = parseCidr(cidr);
  const single = 'cidr' in parsed && parsed.cidr.endsWith(parsed.family === 4 ? '/32' : '/128');
  if (!single) throw new ConnectorError(connector, 'CONNECTOR_REJECTED', `Defender IP indicators take one address, not ${cidr.slice(0, 64)}`);
  return parsed.cidr.replace(/\/\d+$/, '');
}

async function indicatorsFor(d: IndicatorDeps, ip: string): Promise<Indicator[]> {
  const filter = encodeURIComponent(`indicatorValue eq '${ip}' and indicatorType eq 'IpAddress'`);
  return (await d.client.list(`api/indicators?$filter=${filter}`, Indicator)).filter((i) => i.indicatorValue.toLowerCase() === ip.toLowerCase());
}

const live = (i: Indicator) => !i.expirationTime || Date.parse(i.expirationTime) > Date.now();

function receipt(d: IndicatorDeps, step: BlockStep, ip: string, ind: Indicator, extra: { preexisting: boolean; containedBy?: string }, note: string): Receipt {
  const notes = [note, SCOPE_NOTE];
  if (step.params.port !== undefined) notes.push(`port ${step.params.port} cannot be expressed: the whole address is blocked`);
  notes.push(ENFORCE_NOTE);
  return {
    connector: d.connector,
    actionId: step.actionId,
    action: 'block-endpoint',
    key: indicatorKey(ip),
    status: step.params.port !== undefined ? 'partial' : 'enforced',
    detail: notes.join('; '),
    expiresAt: step.expiresAt,
    data: { indicatorId: ind.id, ip, preexisting: extra.preexisting, ...(extra.containedBy ? { containedBy: extra.containedBy } : {}) },
  };
}

export async function blockIp(d: IndicatorDeps, step: BlockStep): Promise<Receipt> {
  if (step.params.scope !== 'all') {
    throw new ConnectorError(d.connector, 'CONNECTOR_REJECTED', `block-endpoint with scope "${step.params.scope}" cannot be enforced: ${SCOPE_NOTE}; use scope: all or a network connector`);
  }
  const ip = indicatorIp(d.connector, step.params.ip);
  const expirationTime = step.expiresAt === null ? undefined : new Date(step.expiresAt).toISOString();
  const existing = (await indicatorsFor(d, ip)).filter(live);
  const mine = existing.find((i) => i.title === sheriffComment(step.actionId));
  if (mine && (mine.expirationTime ? Date.parse(mine.expirationTime) : undefined) === (step.expiresAt ?? undefined)) {
    return receipt(d, step, ip, mine, { preexisting: false }, 'already blocked by this action');
  }
  if (!mine) {
    const other = existing[0];
    if (other) {
      const owner = actionIdFromComment(other.title);
      if (owner) return receipt(d, step, ip, other, { preexisting: false, containedBy: owner }, `already blocked by sheriff action ${owner}`);
      if (!BLOCKING.includes(other.action)) {
        // Submit-or-update would overwrite the operator's own indicator (an allow, say): refuse.
        throw new ConnectorError(d.connector, 'CONNECTOR_REJECTED', `an indicator for ${ip} not made by sheriff exists with action ${other.action}; not overriding it`);
      }
      return receipt(d, step, ip, other, { preexisting: true }, 'blocked by an indicator sheriff did not make: sheriff will not delete it');
    }
  }
  const body = {
    indicatorValue: ip,
    indicatorType: 'IpAddress',
    action: 'Block',
    title: sheriffComment(step.actionId),
    description: `sheriff block-endpoint ${step.actionId}`,
    ...(expirationTime ? { expirationTime } : {}),
    severity: 'High',
    generateAlert: true,
  };
  const saved = await d.client.call('POST', 'api/indicators', Indicator, body);
  if (!saved) throw new ConnectorError(d.connector, 'CONNECTOR_UNAVAILABLE', 'indicator submit answered no body');
  return receipt(d, step, ip, saved, { preexisting: false }, mine ? 'indicator expiry moved' : 'indicator submitted');
}

function receiptIp(d: IndicatorDeps, r: Receipt): string {
  return indicatorIp(d.connector, typeof r.data.ip === 'string' ? r.data.ip : '');
}

export async function unblockIp(d: IndicatorDeps, r: Receipt): Promise<void> {
  if (r.data.preexisting === true) return;
  const mine = (await indicatorsFor(d, receiptIp(d, r))).filter((i) => i.title === sheriffComment(r.actionId));
  for (const ind of mine) {
    try {
      await d.client.call('DELETE', `api/indicators/${ind.id}`, null);
    } catch (err) {
      if (!(err instanceof VendorHttpError && err.failure.status === 404)) throw err;
    }
  }
}

export async function isBlocked(d: IndicatorDeps, r: Receipt): Promise<boolean> {
  const found = (await indicatorsFor(d, receiptIp(d, r))).filter((i) => live(i) && BLOCKING.includes(i.action));
  if (r.data.preexisting === true) return found.length > 0;
  // Adopted from another sheriff action: enforced as long as that action's indicator stands.
  const owners = [r.actionId, ...(typeof r.data.containedBy === 'string' ? [r.data.containedBy] : [])].map(sheriffComment);
  return found.some((i) => owners.includes(i.title ?? ''));
}

export async function listBlocked(d: IndicatorDeps): Promise<Receipt[]> {
  const filter = encodeURIComponent("indicatorType eq 'IpAddress' and action eq 'Block'");
  const all = await d.client.list(`api/indicators?$filter=${filter}`, Indicator);
  const out: Receipt[] = [];
  for (const ind of all.filter(live)) {
    const owner = actionIdFromComment(ind.title);
    const host = parseCidr(ind.indicatorValue);
    if (!owner || 'error' in host || /\/(?!32$|128$)/.test(host.cidr)) continue;
    const ip = host.cidr.replace(/\/\d+$/, '');
    out.push({
      connector: d.connector,
      actionId: owner,
      action: 'block-endpoint',
      key: indicatorKey(ip),
      status: 'enforced',
      detail: `blocked by sheriff indicator ${ind.id}; ${SCOPE_NOTE}`,
      expiresAt: ind.expirationTime ? Date.parse(ind.expirationTime) : null,
      data: { indicatorId: ind.id, ip, preexisting: false },
    });
  }
  return out;
}
