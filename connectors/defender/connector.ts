// The Defender for Endpoint connector: validates every step, then dispatches to isolation or indicators.
import { checkStep, type ActionName, type EnforcementStep, type Receipt } from '../../src/contracts/action.js';
import type { Connector, ConnectorDeps, Health } from '../../src/contracts/connector.js';
import { ConnectorError } from '../../src/errors.js';
import { DefenderClient, type ClientOptions } from './client.js';
import { blockIp, isBlocked, listBlocked, unblockIp, type IndicatorDeps } from './indicators.js';
import { CONNECTOR_TYPE, isIsolated, isolate, listIsolated, release, type IsolationDeps } from './isolation.js';
import { Machine, collection } from './schemas.js';

export interface DefenderSettings extends ClientOptions {
  isolationType: 'Full' | 'Selective';
  indicators: boolean;
}

export class DefenderConnector implements Connector {
  readonly type = CONNECTOR_TYPE;
  readonly capabilities: readonly ActionName[];
  private readonly client: DefenderClient;
  private readonly iso: IsolationDeps;
  private readonly indicatorDeps: IndicatorDeps;

  constructor(readonly name: string, private readonly settings: DefenderSettings, private readonly deps: ConnectorDeps) {
    this.capabilities = settings.indicators ? ['quarantine-device', 'block-endpoint'] : ['quarantine-device'];
    this.client = new DefenderClient(name, settings);
    this.iso = { client: this.client, connector: name, isolationType: settings.isolationType };
    this.indicatorDeps = { client: this.client, connector: name };
  }

  async start(): Promise<void> {}

  async healthcheck(): Promise<Health> {
    try {
      await this.client.call('GET', 'api/machines?$top=1', collection(Machine));
      return { ok: true, detail: `Defender API reachable; isolation ${this.settings.isolationType}${this.settings.indicators ? '; IP indicators on' : ''}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  /** Re-validates the whole step: ids, IPs, params, and a strict hostname (it goes into an OData literal). */
  private check(step: EnforcementStep): EnforcementStep {
    const checked = checkStep(step, { strict: true });
    if ('problem' in checked) throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', checked.problem);
    if (!this.capabilities.includes(checked.step.action)) {
      throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `${checked.step.action} is not enabled on this connector (capabilities: ${this.capabilities.join(', ')})`);
    }
    return checked.step;
  }

  async apply(input: EnforcementStep): Promise<Receipt> {
    const step = this.check(input);
    let receipt: Receipt;
    if (step.action === 'quarantine-device') receipt = await isolate(this.iso, step);
    else if (step.action === 'block-endpoint') receipt = await blockIp(this.indicatorDeps, step);
    else throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `${step.action} is not supported`);
    this.deps.log.info({ connector: this.name, action: step.action, actionId: step.actionId, key: receipt.key, status: receipt.status, preexisting: receipt.data.preexisting }, 'defender: applied');
    return receipt;
  }

  async revert(receipt: Receipt): Promise<void> {
    if (receipt.action === 'quarantine-device') await release(this.iso, receipt);
    else if (receipt.action === 'block-endpoint') await unblockIp(this.indicatorDeps, receipt);
    this.deps.log.info({ connector: this.name, action: receipt.action, actionId: receipt.actionId, key: receipt.key }, 'defender: reverted');
  }

  async verify(receipt: Receipt): Promise<boolean> {
    if (receipt.action === 'quarantine-device') return isIsolated(this.iso, receipt);
    if (receipt.action === 'block-endpoint') return isBlocked(this.indicatorDeps, receipt);
    return false;
  }

  async list(): Promise<Receipt[]> {
    const isolated = await listIsolated(this.iso);
    return this.settings.indicators ? [...isolated, ...await listBlocked(this.indicatorDeps)] : isolated;
  }

  async close(): Promise<void> {}
}
