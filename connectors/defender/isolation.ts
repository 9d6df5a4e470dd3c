// quarantine-device through MDE machine isolation: isolate, release, read state, recover sheriff's isolations.
import type { EnforcementStep, Receipt } from '../../src/contracts/action.js';
import { ConnectorError } from '../../src/errors.js';
import { VendorHttpError, type DefenderClient } from './client.js';
import { findMachine } from './lookup.js';
import { MachineAction, MachineId, actionIdFromComment, sheriffComment, type MachineActionStatus } from './schemas.js';

export const CONNECTOR_TYPE = 'defender';
type QuarantineStep = Extract<EnforcementStep, { action: 'quarantine-device' }>;

const LIVE: readonly MachineActionStatus[] = ['Pending', 'InProgress', 'Succeeded'];
const ALLOW_NOTE = 'allow-listed CIDRs cannot be set per host in Defender (isolation exclusions are tenant policy); the requested allow list is not applied';

export const machineKey = (machineId: string) => `${CONNECTOR_TYPE}:${machineId.toLowerCase()}`;

/** The newest Isolate/Unisolate action of a machine says whether it is (being) isolated. */
export function latestIsolation(actions: MachineAction[]): MachineAction | undefined {
  return actions
    .filter((a) => a.type === 'Isolate' || a.type === 'Unisolate')
    .sort((a, b) => Date.parse(b.creationDateTimeUtc) - Date.parse(a.creationDateTimeUtc))[0];
}

const isolating = (a: MachineAction | undefined): a is MachineAction => a !== undefined && a.type === 'Isolate' && LIVE.includes(a.status);

export interface IsolationDeps {
  client: DefenderClient;
  connector: string;
  isolationType: 'Full' | 'Selective';
}

async function machineActions(d: IsolationDeps, machineId: string, type?: 'Isolate'): Promise<MachineAction[]> {
  const clauses = [`machineId eq '${machineId}'`, ...(type ? [`type eq '${type}'`] : [])];
  return d.client.list(`api/machineactions?$filter=${encodeURIComponent(clauses.join(' and '))}`, MachineAction);
}

function statusOf(a: MachineAction, isolationType: string): Receipt['status'] {
  if (a.status !== 'Succeeded') return 'pending';
  // Selective isolation keeps Outlook, Teams and Skype online: a known leak.
  return (a.scope ?? isolationType) === 'Selective' ? 'partial' : 'enforced';
}

function receiptFor(d: IsolationDeps, step: QuarantineStep, a: MachineAction, extra: { preexisting: boolean; containedBy?: string }, note: string): Receipt {
  const notes = [note, `machine action ${a.id} is ${a.status}`];
  if (step.params.allow.length > 0) notes.push(`${ALLOW_NOTE} (${step.params.allow.join(', ')})`);
  notes.push('no EDR-side timeout: sheriff lifts it at expiry');
  return {
    connector: d.connector,
    actionId: step.actionId,
    action: 'quarantine-device',
    key: machineKey(a.machineId),
    status: statusOf(a, d.isolationType),
    detail: notes.join('; '),
    expiresAt: step.expiresAt,
    data: { machineId: a.machineId.toLowerCase(), machineActionId: a.id, vendorStatus: a.status, preexisting: extra.preexisting, ...(extra.containedBy ? { containedBy: extra.containedBy } : {}) },
  };
}

function isAlreadyInProgress(err: unknown): boolean {
  if (!(err instanceof VendorHttpError) || err.failure.status !== 400) return false;
  return /already in progress|ActiveRequestAlreadyExists|already.*pending/i.test(`${err.failure.code} ${err.failure.message}`);
}

export async function isolate(d: IsolationDeps, step: QuarantineStep): Promise<Receipt> {
  const machine = await findMachine(d.client, d.connector, step.device.ip, step.device.hostname);
  const current = latestIsolation(await machineActions(d, machine.id));
  if (isolating(current)) {
    const owner = actionIdFromComment(current.requestorComment);
    if (owner === step.actionId) return receiptFor(d, step, current, { preexisting: false }, 'already isolated by this action');
    if (owner) return receiptFor(d, step, current, { preexisting: false, containedBy: owner }, `already isolated by sheriff action ${owner}`);
    return receiptFor(d, step, current, { preexisting: true }, 'isolated before sheriff acted (not by sheriff): sheriff will not release it');
  }
  try {
    const created = await d.client.call('POST', `api/machines/${machine.id}/isolate`, MachineAction, { Comment: sheriffComment(step.actionId), IsolationType: d.isolationType });
    if (!created) throw new ConnectorError(d.connector, 'CONNECTOR_UNAVAILABLE', 'isolate answered no machine action');
    return receiptFor(d, step, created, { preexisting: false }, `isolation (${d.isolationType}) requested`);
  } catch (err) {
    if (!isAlreadyInProgress(err)) throw err;
    // A racing or repeated request: adopt the isolation MDE is already running.
    const pending = latestIsolation(await machineActions(d, machine.id, 'Isolate'));
    if (!isolating(pending)) throw err;
    const owner = actionIdFromComment(pending.requestorComment);
    return receiptFor(d, step, pending, { preexisting: owner === null, ...(owner && owner !== step.actionId ? { containedBy: owner } : {}) }, 'an isolation was already in progress');
  }
}

function receiptMachine(d: IsolationDeps, receipt: Receipt): string {
  const parsed = MachineId.safeParse(receipt.data.machineId);
  if (!parsed.success) throw new ConnectorError(d.connector, 'CONNECTOR_REJECTED', 'receipt carries no valid Defender machine id');
  return parsed.data.toLowerCase();
}

/** Releases only an isolation this action made and that is still the newest one; everything else is left alone. */
export async function release(d: IsolationDeps, receipt: Receipt): Promise<void> {
  if (receipt.data.preexisting === true) return;
  const machineId = receiptMachine(d, receipt);
  const current = latestIsolation(await machineActions(d, machineId));
  if (!isolating(current) || current.requestorComment !== sheriffComment(receipt.actionId)) return;
  try {
    await d.client.call('POST', `api/machines/${machineId}/unisolate`, MachineAction, { Comment: sheriffComment(receipt.actionId) });
  } catch (err) {
    if (isAlreadyInProgress(err)) return;
    if (err instanceof VendorHttpError && err.failure.status === 404) return; // machine gone: nothing to lift
    throw err;
  }
}

/** True only for a finished isolation (Succeeded); pending isolations are not enforced yet. */
export async function isIsolated(d: IsolationDeps, receipt: Receipt): Promise<boolean> {
  const current = latestIsolation(await machineActions(d, receiptMachine(d, receipt)));
  return current !== undefined && current.type === 'Isolate' && current.status === 'Succeeded';
}

/** Machines whose newest isolation action is a live Isolate carrying sheriff's comment. */
export async function listIsolated(d: IsolationDeps): Promise<Receipt[]> {
  const [iso, uniso] = await Promise.all([
    d.client.list(`api/machineactions?$filter=${encodeURIComponent("type eq 'Isolate'")}`, MachineAction),
    d.client.list(`api/machineactions?$filter=${encodeURIComponent("type eq 'Unisolate'")}`, MachineAction),
  ]);
  const byMachine = new Map<string, MachineAction[]>();
  for (const a of [...iso, ...uniso]) {
    const k = a.machineId.toLowerCase();
    byMachine.set(k, [...(byMachine.get(k) ?? []), a]);
  }
  const out: Receipt[] = [];
  for (const actions of byMachine.values()) {
    const current = latestIsolation(actions);
    const owner = isolating(current) ? actionIdFromComment(current.requestorComment) : null;
    if (!current || !owner) continue;
    out.push({
      connector: d.connector,
      actionId: owner,
      action: 'quarantine-device',
      key: machineKey(current.machineId),
      status: statusOf(current, d.isolationType),
      detail: `isolated by sheriff (machine action ${current.id} is ${current.status})`,
      expiresAt: null,
      data: { machineId: current.machineId.toLowerCase(), machineActionId: current.id, vendorStatus: current.status, preexisting: false },
    });
  }
  return out;
}
