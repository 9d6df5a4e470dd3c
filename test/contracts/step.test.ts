// checkStep: every connector's own check of an enforcement step before any I/O.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStep } from '../../src/contracts/action.js';

const step = (device: Record<string, unknown>) => ({
  actionId: 'a-0123456789abcdef', action: 'quarantine-device', device, expiresAt: null, params: { allow: [] },
});

describe('checkStep', () => {
  it('passes a well-formed step and returns it parsed', () => {
    const r = checkStep(step({ ip: '10.0.0.5', hostname: 'build-03' }), { strict: true });
    assert.ok('step' in r, JSON.stringify(r));
    assert.equal(r.step.device.ip, '10.0.0.5');
  });

  it('names the field of a malformed step; strict, never its value', () => {
    const loose = checkStep(step({ ip: '$(reboot)' }));
    assert.ok('problem' in loose);
    assert.match(loose.problem, /device\.ip: .*not an IP address/);
    const strict = checkStep({ ...step({ ip: '10.0.0.5' }), actionId: '$(reboot)' }, { strict: true });
    assert.ok('problem' in strict);
    assert.match(strict.problem, /actionId/);
    assert.doesNotMatch(strict.problem, /reboot/);
  });

  it('strict: an IP that needed trimming and a hostname that could break a vendor query are refused', () => {
    const padded = checkStep(step({ ip: ' 10.0.0.5 ' }), { strict: true });
    assert.deepEqual(padded, { problem: 'device ip is not a plain IP address' });
    const quoted = checkStep(step({ ip: '10.0.0.5', hostname: "x'+hostname:'*" }), { strict: true });
    assert.deepEqual(quoted, { problem: 'device hostname is not a plain DNS name' });
  });

  it('not strict: connectors that never embed the hostname take any the contract allows', () => {
    const r = checkStep(step({ ip: '10.0.0.5', hostname: 'build_03' }));
    assert.ok('step' in r, JSON.stringify(r));
    assert.ok('problem' in checkStep(step({ ip: '10.0.0.5', hostname: 'build_03' }), { strict: true }));
  });
});
