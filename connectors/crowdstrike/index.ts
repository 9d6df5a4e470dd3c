// The `crowdstrike` connector: quarantines a device by Falcon network containment of its host.
import { ActionId, checkStep, QueryHostname, type EnforcementStep, type Receipt } from '../../src/contracts/action.js';
import type { Connector, ConnectorDeps, ConnectorModule, Health } from '../../src/contracts/connector.js';
import { parseHostIp } from '../../src/contracts/net.js';
import { ConnectorError, NotResponsibleError } from '../../src/errors.js';
import { FalconClient, httpStatusOf } from './client.js';
import {
  AnyResponse, baseUrlOf, CrowdStrikeOptions, type Device, DeviceId, DevicesResponse, IdsResponse,
  isContained, ownerTag, preTag, sheriffTags,
} from './falcon.js';

export const CROWDSTRIKE_CONNECTOR = 'crowdstrike';
const capabilities = ['quarantine-device'] as const;
const PAGE = 500;

type QuarantineStep = Extract<EnforcementStep, { action: 'quarantine-device' }>;

class CrowdStrikeConnector implements Connector {
  readonly type = CROWDSTRIKE_CONNECTOR;
  readonly capabilities = capabilities;
  private readonly client: FalconClient;

  constructor(readonly name: string, options: CrowdStrikeOptions, private readonly deps: ConnectorDeps) {
    this.client = new FalconClient(name, {
      baseUrl: baseUrlOf(options), clientId: options.clientId, clientSecret: options.clientSecret,
      memberCid: options.memberCid, timeoutMs: options.timeoutMs,
    });
  }

  async start(): Promise<void> {}

  async healthcheck(): Promise<Health> {
    try {
      await this.client.request('GET', '/devices/queries/devices/v1', IdsResponse, { query: { limit: '1' } });
      return { ok: true, detail: 'Falcon API reachable; token and Hosts read scope accepted' };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async apply(input: EnforcementStep): Promise<Receipt> {
    const step = this.validate(input);
    const device = await this.lookup(step.device.ip, step.device.hostname);
    const id = device.device_id;
    const mine = { owner: ownerTag(step.actionId), pre: preTag(step.actionId) };
    const { owners, observers } = sheriffTags(device);

    if (isContained(device.status)) {
      if (owners.includes(step.actionId) || observers.includes(step.actionId)) {
        return this.receipt(step, device, observers.includes(step.actionId));
      }
      // Contained already: by another sheriff action (share it) or by someone else (never ours to lift).
      const preexisting = owners.length === 0;
      await this.tag(id, 'add', [preexisting ? mine.pre : mine.owner]);
      this.deps.log.info({ connector: this.name, deviceId: id, actionId: step.actionId, preexisting }, 'falcon host already contained; no containment call');
      return this.receipt(step, device, preexisting);
    }

    // Not contained: tags of earlier actions describe nothing enforced any more, so drop them. Tag before
    // containing so that a crash between the two never leaves a sheriff containment that looks foreign.
    const stale = (device.tags ?? []).filter((t) => /^FalconGroupingTags\/sheriff(pre)?_a_/.test(t) && t !== mine.owner);
    if (stale.length) await this.tag(id, 'remove', stale);
    if (!owners.includes(step.actionId)) await this.tag(id, 'add', [mine.owner]);
    await this.client.request('POST', '/devices/entities/devices-actions/v2', AnyResponse, {
      query: { action_name: 'contain' }, body: { ids: [id] },
    });
    this.deps.log.info({ connector: this.name, deviceId: id, actionId: step.actionId }, 'falcon containment requested');
    const after = (await this.read(id)) ?? { ...device, status: 'containment_pending' };
    return this.receipt(step, after, false);
  }

  async revert(receipt: Receipt): Promise<void> {
    const ref = this.ref(receipt);
    if (!ref) return;
    const device = await this.read(ref.deviceId);
    if (!device) return;
    const { owners, observers } = sheriffTags(device);
    if (observers.includes(ref.actionId)) await this.tag(ref.deviceId, 'remove', [preTag(ref.actionId)]);
    if (!owners.includes(ref.actionId)) return; // not contained by this action: someone else's, or gone
    const othersHoldIt = owners.some((a) => a !== ref.actionId);
    if (!othersHoldIt && isContained(device.status)) {
      await this.client.request('POST', '/devices/entities/devices-actions/v2', AnyResponse, {
        query: { action_name: 'lift_containment' }, body: { ids: [ref.deviceId] },
      });
      this.deps.log.info({ connector: this.name, deviceId: ref.deviceId, actionId: ref.actionId }, 'falcon containment lift requested');
    }
    // Untag only after the lift was accepted: a failed lift keeps the host listed as sheriff's.
    await this.tag(ref.deviceId, 'remove', [ownerTag(ref.actionId)]);
  }

  async verify(receipt: Receipt): Promise<boolean> {
    const ref = this.ref(receipt);
    if (!ref) return false;
    const device = await this.read(ref.deviceId);
    if (!device || device.status !== 'contained') return false;
    const { owners, observers } = sheriffTags(device);
    return owners.includes(ref.actionId) || observers.includes(ref.actionId);
  }

  async list(): Promise<Receipt[]> {
    const out: Receipt[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.client.request('GET', '/devices/queries/devices/v1', IdsResponse, {
        query: { filter: "status:['contained','containment_pending']", limit: String(PAGE), offset: String(offset) },
      });
      const ids = (page.resources ?? []).filter((i) => DeviceId.safeParse(i).success);
      for (const device of await this.readMany(ids)) {
        if (!isContained(device.status)) continue;
        const { owners, observers } = sheriffTags(device);
        for (const actionId of owners) out.push(this.listed(device, actionId, false));
        for (const actionId of observers) if (!owners.includes(actionId)) out.push(this.listed(device, actionId, true));
      }
      const total = page.meta?.pagination?.total ?? 0;
      if ((page.resources ?? []).length < PAGE || offset + PAGE >= total) break;
    }
    return out;
  }

  async close(): Promise<void> {
    this.client.forgetToken();
  }

  /** Re-validates everything that can reach Falcon; nothing hostile gets past this point. */
  private validate(input: EnforcementStep): QuarantineStep {
    const checked = checkStep(input, { strict: true });
    if ('problem' in checked) throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', checked.problem);
    const { step } = checked;
    if (step.action !== 'quarantine-device') {
      throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', `${step.action} is not something Falcon can enforce per host`);
    }
    return step;
  }

  /** Exact host match on IP (and hostname when known); Falcon's search index may lag, so re-check entities. */
  private async lookup(ip: string, hostname: string | undefined): Promise<Device> {
    const parsed = parseHostIp(ip);
    if ('error' in parsed) throw new ConnectorError(this.name, 'CONNECTOR_REJECTED', 'device ip is not a host address');
    const terms = [`local_ip:'${parsed.ip}'`];
    if (hostname) terms.push(`hostname:'${QueryHostname.parse(hostname)}'`);
    const q = await this.client.request('GET', '/devices/queries/devices/v1', IdsResponse, { query: { filter: terms.join('+'), limit: '100' } });
    const ids = (q.resources ?? []).filter((i) => DeviceId.safeParse(i).success);
    const hits = (await this.readMany(ids)).filter((d) => {
      const local = d.local_ip ? parseHostIp(d.local_ip) : { error: 'none' };
      if ('error' in local || local.ip !== parsed.ip) return false;
      return !hostname || (d.hostname ?? '').toLowerCase() === hostname.toLowerCase();
    });
    const label = hostname ? `${parsed.ip} (${hostname})` : parsed.ip;
    if (hits.length === 0) throw new NotResponsibleError(this.name, `no Falcon host has local IP ${label}`);
    if (hits.length > 1) {
      throw new ConnectorError(this.name, 'CONNECTOR_AMBIGUOUS', `${hits.length} Falcon hosts match ${label}: ${hits.map((d) => d.device_id).join(', ')}`, {
        details: { deviceIds: hits.map((d) => d.device_id) },
      });
    }
    return hits[0] as Device;
  }

  private async read(deviceId: string): Promise<Device | undefined> {
    return (await this.readMany([deviceId]))[0];
  }

  private async readMany(ids: string[]): Promise<Device[]> {
    const out: Device[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const batch = ids.slice(i, i + 100);
      try {
        const r = await this.client.request('POST', '/devices/entities/devices/v2', DevicesResponse, { body: { ids: batch } });
        out.push(...(r.resources ?? []).filter((d) => batch.includes(d.device_id)));
      } catch (err) {
        // Falcon answers 404 when none of the ids exist any more (host removed): nothing to read.
        if (httpStatusOf(err) === 404) continue;
        throw err;
      }
    }
    return out;
  }

  private async tag(deviceId: string, action: 'add' | 'remove', tags: string[]): Promise<void> {
    await this.client.request('PATCH', '/devices/entities/devices/tags/v1', AnyResponse, { body: { action, device_ids: [deviceId], tags } });
  }

  /** The device and action a receipt names, or null when it is not one of ours (then revert/verify are no-ops). */
  private ref(receipt: Receipt): { deviceId: string; actionId: string } | null {
    const m = /^crowdstrike:([0-9a-f]{32})$/.exec(receipt.key);
    if (!m || !ActionId.safeParse(receipt.actionId).success) return null;
    return { deviceId: m[1] as string, actionId: receipt.actionId };
  }

  private receipt(step: QuarantineStep, device: Device, preexisting: boolean): Receipt {
    const allow = step.params.allow;
    const notes = [
      preexisting ? `Falcon host ${device.device_id} was already contained by someone else; sheriff will not lift it`
        : `Falcon host ${device.device_id} network containment (${device.status})`,
      allow.length ? `allow ${allow.join(', ')} not applied per host: Falcon's containment allow-list is a tenant-wide policy` : '',
    ].filter(Boolean);
    return {
      connector: this.name,
      actionId: step.actionId,
      action: 'quarantine-device',
      key: `crowdstrike:${device.device_id}`,
      status: device.status === 'contained' ? 'enforced' : 'pending',
      detail: notes.join('; '),
      expiresAt: step.expiresAt,
      data: { deviceId: device.device_id, hostname: device.hostname ?? null, vendorStatus: device.status, preexisting, allowNotApplied: allow },
    };
  }

  private listed(device: Device, actionId: string, preexisting: boolean): Receipt {
    return {
      connector: this.name,
      actionId,
      action: 'quarantine-device',
      key: `crowdstrike:${device.device_id}`,
      status: device.status === 'contained' ? 'enforced' : 'pending',
      detail: `Falcon host ${device.device_id} ${device.status}${preexisting ? ' (contained before sheriff acted)' : ''}`,
      // Falcon has no containment timeout: expiry is sheriff's own expire job.
      expiresAt: null,
      data: { deviceId: device.device_id, hostname: device.hostname ?? null, vendorStatus: device.status, preexisting },
    };
  }
}

export const crowdstrikeConnector: ConnectorModule<CrowdStrikeOptions> = {
  type: CROWDSTRIKE_CONNECTOR,
  description: 'CrowdStrike Falcon: quarantines a device by network-containing its Falcon host (lift on revert).',
  capabilities,
  privileges: 'Falcon API client with scopes Hosts: Read and Hosts: Write (contain/lift containment, grouping tags).',
  optionsSchema: CrowdStrikeOptions,
  create: (name, options, deps) => new CrowdStrikeConnector(name, options, deps),
};
