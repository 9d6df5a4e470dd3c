// The pure normalisers against the real fixtures (unchanged) and their edge cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultInternalCidrs } from '../../src/contracts/net.js';
import { parseItems } from '../../src/ingest/body.js';
import { compileInternal, type NormaliseContext } from '../../src/ingest/common.js';
import { addressFromLabel } from '../../src/ingest/alertmanager.js';
import { normaliseItems } from '../../src/ingest/index.js';
import { fixture } from './helpers.js';

const ctx = (internal = defaultInternalCidrs, deviceLabels = ['device_ip', 'ip', 'instance']): NormaliseContext =>
  ({ receivedAt: '2026-01-01T00:00:00.000Z', internal: compileInternal(internal), deviceLabels });

const breach = () => JSON.parse(fixture('darktrace-modelbreach.json')) as Record<string, unknown>;

describe('darktrace', () => {
  it('normalises the model breach fixture', () => {
    const b = normaliseItems('darktrace', parseItems(fixture('darktrace-modelbreach.json'), false), ctx());
    assert.equal(b.refused.length, 0);
    const a = b.alerts[0]?.alert;
    assert.ok(a);
    assert.match(a.id, /^darktrace-[0-9a-f]{24}$/);
    assert.equal(a.name, 'Testing::Cheese-y DNS');
    assert.equal(a.score, 0.729);
    assert.equal(a.detectedAt, '2020-09-01T05:20:19.000Z');
    assert.deepEqual(a.device, { ip: '10.0.0.1', hostname: 'ip-10-0-0-1', mac: '00:00:00:00:00:00', id: '823', tags: [] });
    assert.deepEqual(a.peer, { hostname: 'cheese.com' });
    assert.deepEqual(a.raw, breach());
  });

  it('takes the peer from Destination IP / port / Connection hostname filters', () => {
    const b = breach();
    b.triggeredComponents = [{ triggeredFilters: [
      { filterType: 'Destination IP', trigger: { value: '185.199.108.7' } },
      { filterType: 'Destination port', trigger: { value: '2222' } },
      { filterType: 'Connection hostname', trigger: { value: 'pool.example' } },
    ] }];
    const a = normaliseItems('darktrace', [b], ctx()).alerts[0]?.alert;
    assert.deepEqual(a?.peer, { ip: '185.199.108.7', port: 2222, hostname: 'pool.example' });
  });

  it('gives the same id to one breach in the model-breach and the push shape, and scales push scores', () => {
    const push = { modelName: 'Compromise / SSH Beacon', score: 87, pbid: 159, deviceIp: '10.0.0.1', destIP: '185.199.108.4', destPort: 22, breachTime: 1598937619000 };
    const [fromBreach] = normaliseItems('darktrace', [breach()], ctx()).alerts;
    const [fromPush] = normaliseItems('darktrace', [push], ctx()).alerts;
    assert.equal(fromPush?.alert.id, fromBreach?.alert.id);
    assert.equal(fromPush?.alert.score, 0.87);
    assert.equal(fromPush?.alert.name, 'Compromise / SSH Beacon');
    assert.deepEqual(fromPush?.alert.peer, { ip: '185.199.108.4', port: 22 });
  });

  it('refuses a breach whose device address is not one host', () => {
    for (const ip of ['127.0.0.1', '224.0.0.1', '255.255.255.255', '0.0.0.0', '10.0.0.0/8', '::1', 'ff02::1', 'host.example']) {
      const b = breach();
      (b.device as Record<string, unknown>).ip = ip;
      delete (b.device as Record<string, unknown>).ips;
      const r = normaliseItems('darktrace', [b], ctx());
      assert.equal(r.alerts.length, 0, ip);
      assert.match(r.refused[0]?.reason ?? '', /no usable device/, ip);
    }
  });

  it('folds a v4-mapped v6 device to v4 and canonicalises v6', () => {
    const b = breach();
    (b.device as Record<string, unknown>).ip = '::ffff:10.1.2.3';
    assert.equal(normaliseItems('darktrace', [b], ctx()).alerts[0]?.alert.device.ip, '10.1.2.3');
    (b.device as Record<string, unknown>).ip = 'FD00:0:0::5';
    assert.equal(normaliseItems('darktrace', [b], ctx()).alerts[0]?.alert.device.ip, 'fd00::5');
  });
});

describe('suricata', () => {
  it('normalises the EVE fixture: outbound, device is src', () => {
    const b = normaliseItems('suricata', parseItems(fixture('suricata-eve-alert.json'), false), ctx());
    const a = b.alerts[0]?.alert;
    assert.equal(a?.name, 'ET POLICY curl User-Agent Outbound');
    assert.equal(a?.score, 0.6);
    assert.equal(a?.device.ip, '192.168.1.146');
    assert.deepEqual(a?.peer, { ip: '93.184.216.34', port: 80, hostname: 'example.net' });
    assert.equal(a?.detectedAt, '2018-10-03T14:42:44.836Z');
  });

  it('names the internal destination of an inbound alert, not the external source', () => {
    const e = JSON.parse(fixture('suricata-eve-alert.json')) as Record<string, unknown>;
    Object.assign(e, { src_ip: '93.184.216.34', src_port: 443, dest_ip: '192.168.1.146', dest_port: 50000 });
    const a = normaliseItems('suricata', [e], ctx()).alerts[0]?.alert;
    assert.equal(a?.device.ip, '192.168.1.146');
    assert.deepEqual(a?.peer, { ip: '93.184.216.34', port: 443 });
  });

  it('maps severities and refuses non-alert events and flows with no internal side', () => {
    const e = JSON.parse(fixture('suricata-eve-alert.json')) as { alert: { severity: number } } & Record<string, unknown>;
    const scores = [1, 2, 3, 4].map((s) => { e.alert.severity = s; return normaliseItems('suricata', [e], ctx()).alerts[0]?.alert.score; });
    assert.deepEqual(scores, [0.9, 0.6, 0.3, 0.1]);
    assert.match(normaliseItems('suricata', [{ ...e, event_type: 'flow' }], ctx()).refused[0]?.reason ?? '', /not an alert/);
    assert.match(normaliseItems('suricata', [{ ...e, src_ip: '8.8.8.8' }], ctx()).refused[0]?.reason ?? '', /ingest.internal/);
  });
});

describe('zeek', () => {
  it('accepts the notice fixture lines; the external-only scan is refused with the reason by default', () => {
    const b = normaliseItems('zeek', parseItems(fixture('zeek-notice.ndjson'), false), ctx());
    assert.equal(b.alerts.length, 1);
    assert.equal(b.alerts[0]?.alert.name, 'SSH::Password_Guessing');
    assert.equal(b.alerts[0]?.alert.device.ip, '172.16.238.1');
    assert.equal(b.alerts[0]?.alert.detectedAt, '2011-11-04T19:44:35.879Z');
    assert.equal(b.refused[0]?.index, 1);
    assert.match(b.refused[0]?.reason ?? '', /ingest.internal/);
  });

  it('with the scanned host declared internal, the scan names it and the scanner is the peer', () => {
    const b = normaliseItems('zeek', parseItems(fixture('zeek-notice.ndjson'), false), ctx([...defaultInternalCidrs, '207.154.238.0/24']));
    const scan = b.alerts.find((a) => a.alert.name === 'Scan::Port_Scan')?.alert;
    assert.equal(scan?.device.ip, '207.154.238.205');
    assert.equal(scan?.peer?.ip, '216.160.83.57');
  });
});

describe('falco', () => {
  it('refuses the fixture (it carries no address) with the reason', () => {
    const b = normaliseItems('falco', parseItems(fixture('falco-falcosidekick.json'), false), ctx());
    assert.equal(b.alerts.length, 0);
    assert.match(b.refused[0]?.reason ?? '', /no usable device.*fd\.lip/);
  });

  it('uses fd.lip, maps priority, keeps tags and the pod name', () => {
    const e = JSON.parse(fixture('falco-falcosidekick.json')) as { output_fields: Record<string, unknown> } & Record<string, unknown>;
    Object.assign(e.output_fields, { 'fd.lip': '10.244.1.7', 'fd.rip': '185.199.108.9', 'fd.rport': 3333 });
    const a = normaliseItems('falco', [e], ctx()).alerts[0]?.alert;
    assert.equal(a?.device.ip, '10.244.1.7');
    assert.equal(a?.device.hostname, 'alpine');
    assert.deepEqual(a?.peer, { ip: '185.199.108.9', port: 3333 });
    assert.equal(a?.score, 0.4);
    assert.deepEqual(a?.device.tags, ['T1059', 'container', 'maturity_stable', 'mitre_execution', 'shell']);
  });
});

describe('alertmanager', () => {
  it('refuses the fixture: its instance is a URL with a hostname, not an IP', () => {
    const b = normaliseItems('alertmanager', parseItems(fixture('alertmanager-webhook-v4.json'), false), ctx());
    assert.equal(b.alerts.length, 0);
    assert.match(b.refused[0]?.reason ?? '', /device_ip, ip, instance/);
  });

  it('yields one alert per entry; instance host:port and URLs give their IP; labels are configurable', () => {
    const n = JSON.parse(fixture('alertmanager-webhook-v4.json')) as { alerts: Record<string, unknown>[] };
    const base = n.alerts[0] as { labels: Record<string, string> };
    n.alerts = [
      { ...base, fingerprint: 'a1', labels: { ...base.labels, instance: '10.0.0.9:9100' } },
      { ...base, fingerprint: 'a2', labels: { ...base.labels, instance: 'https://[fd00::9]:8443/x' } },
      { ...base, fingerprint: 'a3', labels: { ...base.labels, instance: 'node1:9100', host_ip: '192.168.5.5' } },
    ];
    const b = normaliseItems('alertmanager', [n], ctx());
    assert.deepEqual(b.alerts.map((a) => a.alert.device.ip), ['10.0.0.9', 'fd00::9']);
    assert.equal(b.alerts[0]?.alert.score, 0.9);
    assert.equal(b.refused[0]?.index, 2);
    const custom = normaliseItems('alertmanager', [n], ctx(defaultInternalCidrs, ['host_ip', 'instance']));
    assert.deepEqual(custom.alerts.map((a) => a.alert.device.ip), ['10.0.0.9', 'fd00::9', '192.168.5.5']);
  });

  it('reads addresses from label values only when the host part is an IP', () => {
    assert.equal(addressFromLabel('10.1.1.1:9100'), '10.1.1.1');
    assert.equal(addressFromLabel('http://10.1.1.2/metrics'), '10.1.1.2');
    assert.equal(addressFromLabel('server.example.org:9100'), undefined);
    assert.equal(addressFromLabel('127.0.0.1:9100'), undefined);
  });
});

describe('generic', () => {
  it('accepts the documented minimal JSON', () => {
    const g = { id: 'ext-1', name: 'Custom / Thing', score: 0.8, device: { ip: '10.9.9.9', hostname: 'web-1' }, peer: { ip: '185.199.108.5', port: 22 }, time: '2026-01-01T00:00:00Z' };
    const a = normaliseItems('generic', [g], ctx()).alerts[0]?.alert;
    assert.equal(a?.device.ip, '10.9.9.9');
    assert.equal(a?.device.hostname, 'web-1');
    assert.deepEqual(a?.peer, { ip: '185.199.108.5', port: 22 });
    assert.equal(a?.detectedAt, '2026-01-01T00:00:00.000Z');
    const again = normaliseItems('generic', [{ ...g, score: 0.1 }], ctx()).alerts[0]?.alert;
    assert.equal(again?.id, a?.id);
  });

  it('refuses schema problems with zod issues', () => {
    const r = normaliseItems('generic', [{ id: 'x', name: 'n', score: 3, device: {} }], ctx());
    assert.ok(r.refused[0]?.issues?.some((i) => i.path.join('.') === 'score'));
    assert.ok(r.refused[0]?.issues?.some((i) => i.path.join('.') === 'device.ip'));
  });
});
