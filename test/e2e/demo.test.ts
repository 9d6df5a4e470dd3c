// The demo (npm run demo) runs end to end and exits 0: log-connector mode always, the namespace lab when root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { labUnavailableReason } from '../helpers/netns.js';

function runDemo(mode: 'log' | 'lab'): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/demo.ts'], { env: { ...process.env, SHERIFF_DEMO_MODE: mode }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    // The demo cleans up on SIGTERM too; a hung demo must not hang CI.
    const timer = setTimeout(() => child.kill('SIGTERM'), 55_000);
    child.on('error', reject);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

describe('npm run demo', () => {
  it('log-connector mode: every step behaves as shown (exit 0)', async () => {
    const r = await runDemo('log');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /✓ the demo behaved as shown/);
    assert.doesNotMatch(r.out, /✗/);
  });

  it('lab mode: real traffic from the infected device and its neighbour (exit 0)', { skip: labUnavailableReason() ?? false }, async () => {
    const r = await runDemo('lab');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SSH out: infected → \S+:22 is blocked/);
    assert.match(r.out, /neighbour unaffected/);
    assert.doesNotMatch(r.out, /✗/);
  });
});
