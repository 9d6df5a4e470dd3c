// Peers in reserved ranges (documentation, benchmarking) stay in the alert; devices there are still refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultInternalCidrs, parseHostIp } from '../../src/contracts/net.js';
import { compileInternal, type NormaliseContext } from '../../src/ingest/common.js';
import { normaliseItems } from '../../src/ingest/index.js';
import { modelBreach } from '../helpers/darktrace.js';

const ctx: NormaliseContext = { receivedAt: '2026-01-01T00:00:00.000Z', internal: compileInternal(defaultInternalCidrs), deviceLabels: ['ip'] };
const device = { ip: '10.77.1.2', hostname: 'build-03', did: 1, mac: '52:54:00:3a:9c:11' };

describe('peer addresses in reserved ranges', () => {
  it('a Darktrace breach keeps a documentation-range peer (v4 and v6) as the endpoint to block', () => {
    for (const ip of ['203.0.113.7', '198.51.100.10', '192.0.2.44', '2001:db8:113::7']) {
      const a = normaliseItems('darktrace', [modelBreach({ model: 'Compromise / SSH Beacon', score: 0.7, device, peer: { ip, port: 22 } })], ctx).alerts[0]?.alert;
      assert.deepEqual(a?.peer, { ip, port: 22 }, ip);
    }
  });

  it('a Suricata flow keeps a documentation-range server as the peer', () => {
    const eve = { event_type: 'alert', timestamp: '2026-01-01T00:00:00.000+0000', flow_id: 1, src_ip: '10.77.1.2', src_port: 40000, dest_ip: '203.0.113.7', dest_port: 443, proto: 'TCP', alert: { signature: 'ET POLICY IRC on 443', signature_id: 1, severity: 1 } };
    const a = normaliseItems('suricata', [eve], ctx).alerts[0]?.alert;
    assert.deepEqual(a?.peer, { ip: '203.0.113.7', port: 443 });
    assert.equal(a?.device.ip, '10.77.1.2');
  });

  it('loopback, multicast and unspecified peers are still dropped', () => {
    for (const ip of ['127.0.0.1', '224.0.0.5', '0.0.0.0']) {
      const a = normaliseItems('darktrace', [modelBreach({ model: 'Compromise / SSH Beacon', score: 0.7, device, peer: { ip, port: 22 } })], ctx).alerts[0]?.alert;
      assert.deepEqual(a?.peer, { port: 22 }, ip);
    }
    assert.deepEqual(parseHostIp('203.0.113.7'), { ip: '203.0.113.7', family: 4 });
  });
});
