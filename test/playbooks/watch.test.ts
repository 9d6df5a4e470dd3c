// Hot reload: a file change or SIGHUP loads the new set; a bad file keeps the previous set and reports why.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { actionNames } from '../../src/contracts/action.js';
import type { CompiledPlaybook } from '../../src/playbooks/match.js';
import { watchPlaybooks, type PlaybookWatcher } from '../../src/playbooks/watch.js';

const conns = [{ name: 'dry', type: 'log', capabilities: actionNames }];
const dir = mkdtempSync(join(tmpdir(), 'sheriff-watch-'));
const watchers: PlaybookWatcher[] = [];
// The watcher does not hold the process open (persistent: false); the test does while it waits for events.
const keepAlive = setInterval(() => {}, 1000);
after(() => {
  clearInterval(keepAlive);
  for (const w of watchers) w.close();
  rmSync(dir, { recursive: true, force: true });
});

const pb = (name: string) => `name: ${name}\nmatch: { name: x }\nrespond: [{ action: block-ssh-egress }]\n`;

/** Resolves with the next callback value (no timing assertion: the test only waits for the event). */
function next<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

describe('watchPlaybooks', { timeout: 20_000 }, () => {
  it('reloads on change, keeps the old set on a bad file, recovers on a good one', async () => {
    const file = join(dir, 'p.yaml');
    writeFileSync(file, pb('one'));
    let loaded = next<CompiledPlaybook[]>();
    const problems = next<string[]>();
    const w = watchPlaybooks({ path: dir, connectors: conns, debounceMs: 20, sighup: false, onLoad: (p) => loaded.resolve(p), onProblems: (p) => problems.resolve(p) });
    watchers.push(w);
    assert.deepEqual(w.initialProblems, []);
    assert.deepEqual(w.current().map((p) => p.name), ['one']);

    loaded = next();
    writeFileSync(file, pb('two'));
    assert.deepEqual((await loaded.promise).map((p) => p.name), ['two']);

    writeFileSync(file, 'name: three\nmatch: { name: x }\nrespond: [{ action: block-ssh-egress, params: { ports: [0] } }]\n');
    const found = await problems.promise;
    assert.match(found.join('\n'), /p\.yaml:3: playbook "three": respond\[0\]\.params\.ports\[0\]/);
    assert.deepEqual(w.current().map((p) => p.name), ['two'], 'the previous set stays in force');

    loaded = next();
    writeFileSync(file, pb('four'));
    assert.deepEqual((await loaded.promise).map((p) => p.name), ['four']);
  });
  it('reloads on SIGHUP', async () => {
    const sub = mkdtempSync(join(dir, 'hup-'));
    const file = join(sub, 'only.yml');
    writeFileSync(file, pb('before'));
    const loaded: string[][] = [];
    const w = watchPlaybooks({ path: file, connectors: conns, debounceMs: 60_000, onLoad: (p) => loaded.push(p.map((x) => x.name)) });
    watchers.push(w);
    writeFileSync(file, pb('after'));
    const done = next<void>();
    process.once('SIGHUP', () => setImmediate(() => done.resolve()));
    process.kill(process.pid, 'SIGHUP');
    await done.promise;
    w.close();
    assert.deepEqual(w.current().map((p) => p.name), ['after']);
    assert.deepEqual(loaded[0], ['before']);
  });
});
