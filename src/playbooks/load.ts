// Loads playbooks from a file or folder: YAML (many documents) → zod → action params → capabilities; every problem with file:line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isNode, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { z } from 'zod';
import { actionModules } from '../../actions/index.js';
import { paramsSchemas } from '../contracts/action.js';
import { Playbook, ResponseStep } from '../contracts/playbook.js';
import type { ConnectorInfo } from '../decide/types.js';
import { compileMatcher, type CompiledPlaybook } from './match.js';

export interface LoadResult {
  playbooks: CompiledPlaybook[];
  problems: string[];
}

type Path = (string | number)[];

/** The line of the deepest node that exists on `path` (a missing key points at its parent). */
function lineOf(doc: Document, lc: LineCounter, path: Path, key?: string): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (!isNode(node)) continue;
    if (key !== undefined && n === path.length && isMap(node)) {
      const pair = node.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === key);
      const range = pair && isNode(pair.key) ? pair.key.range : undefined;
      if (range) return lc.linePos(range[0]).line;
    }
    if (node.range) return lc.linePos(node.range[0]).line;
  }
  return 1;
}

function pathText(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${p}`)).join('');
}

function issueProblems(issues: readonly z.core.$ZodIssue[], at: (path: Path, key?: string) => string, base: Path = []): string[] {
  return issues.flatMap((i) => {
    const path = [...base, ...(i.path as Path)];
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => `${at(path, k)}: ${pathText([...path, k])}: unknown key (check the spelling; see docs/playbooks.md)`);
    return [`${at(path)}: ${pathText(path) || '(document)'}: ${i.message}`];
  });
}

export function listPlaybookFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  return readdirSync(path).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.')).sort().map((f) => join(path, f));
}

function checkStep(step: ResponseStep, i: number, at: (path: Path, key?: string) => string, connectors: readonly ConnectorInfo[], offered: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const r = paramsSchemas[step.action].safeParse(step.params);
  if (!r.success) {
    problems.push(...issueProblems(r.error.issues, at, ['respond', i, 'params']).map((p) => `${p} (params of ${step.action})`));
  } else {
    try {
      // Catches what only the action knows; an alert-dependent default (block-endpoint's peer) is checked per alert.
      if (step.action !== 'block-endpoint' || step.params.ip !== undefined) actionModules[step.action].resolveParams(step.params);
    } catch (err) {
      problems.push(`${at(['respond', i, 'params'])}: ${(err as Error).message}`);
    }
  }
  if (!offered.has(step.action)) {
    const have = connectors.map((c) => `${c.name} (${c.type})`).join(', ') || 'none';
    problems.push(`${at(['respond', i, 'action'])}: respond[${i}].action: no configured connector offers "${step.action}" (configured: ${have})`);
  }
  if (step.when?.within !== undefined && step.when.repeat === undefined) {
    problems.push(`${at(['respond', i, 'when', 'within'])}: respond[${i}].when.within: needs when.repeat (how many matches within the window)`);
  }
  if (step.autoMinScore !== undefined && step.approval === 'auto') {
    problems.push(`${at(['respond', i, 'autoMinScore'])}: respond[${i}].autoMinScore: only makes sense with approval: required`);
  }
  return problems;
}

/** Validates and compiles one file's text; `seen` carries names across files for the duplicate check. */
export function loadPlaybookText(file: string, text: string, connectors: readonly ConnectorInfo[], seen = new Map<string, string>()): LoadResult {
  const problems: string[] = [];
  const playbooks: CompiledPlaybook[] = [];
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  if (!Array.isArray(docs)) return { playbooks, problems: [`${file}:1: not a YAML stream`] };
  const offered = new Set(connectors.flatMap((c) => c.capabilities));
  for (const doc of docs) {
    if (doc.errors.length) {
      for (const e of doc.errors) problems.push(`${file}:${lc.linePos(e.pos[0]).line}: YAML: ${e.message.split('\n')[0]}`);
      continue;
    }
    let value: unknown;
    try {
      // Unresolved aliases and alias bombs (yaml's maxAliasCount) throw here, after parsing succeeded.
      value = doc.toJS();
    } catch (err) {
      problems.push(`${file}:${doc.contents?.range ? lc.linePos(doc.contents.range[0]).line : 1}: YAML: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    if (value === null || value === undefined) continue;
    const docLine = doc.contents?.range ? lc.linePos(doc.contents.range[0]).line : 1;
    const label = typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string'
      ? ` playbook "${String((value as { name: string }).name).slice(0, 64)}"` : '';
    const at = (path: Path, key?: string) => `${file}:${lineOf(doc, lc, path, key)}:${label}`;
    const parsed = Playbook.safeParse(value);
    // Steps are checked even when the playbook as a whole is invalid, so one run lists every problem.
    const rawSteps: unknown[] = parsed.success ? parsed.data.respond
      : Array.isArray((value as { respond?: unknown }).respond) ? (value as { respond: unknown[] }).respond : [];
    let ok = parsed.success;
    if (!parsed.success) problems.push(...issueProblems(parsed.error.issues, at));
    rawSteps.forEach((raw, i) => {
      const step = ResponseStep.safeParse(raw);
      if (!step.success) return;
      const found = checkStep(step.data, i, at, connectors, offered);
      if (found.length) {
        ok = false;
        problems.push(...found);
      }
    });
    if (!parsed.success) continue;
    const pb = parsed.data;
    if (pb.respond.some((s) => s.action === 'block-endpoint' && s.params.ip === undefined) && pb.match.hasPeer !== true) {
      ok = false;
      problems.push(`${at(['match'])}: match: block-endpoint without params.ip blocks the alert's peer: add hasPeer: true`);
    }
    const where = `${file}:${lineOf(doc, lc, ['name'])}`;
    const first = seen.get(pb.name);
    if (first !== undefined) {
      problems.push(`${where}: playbook "${pb.name}": duplicate name (first defined at ${first})`);
      continue;
    }
    seen.set(pb.name, where);
    if (ok) playbooks.push({ name: pb.name, playbook: pb, file, line: docLine, match: compileMatcher(pb) });
  }
  return { playbooks, problems };
}

/** Loads a file or every *.yaml|*.yml of a folder (sorted by name). Never throws for content problems. */
export function loadPlaybooks(path: string, connectors: readonly ConnectorInfo[]): LoadResult {
  let files: string[];
  try {
    files = listPlaybookFiles(path);
  } catch (err) {
    return { playbooks: [], problems: [`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`] };
  }
  if (files.length === 0) return { playbooks: [], problems: [`${path}: no *.yaml or *.yml playbook files`] };
  const seen = new Map<string, string>();
  const out: LoadResult = { playbooks: [], problems: [] };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      out.problems.push(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      continue;
    }
    const r = loadPlaybookText(file, text, connectors, seen);
    out.playbooks.push(...r.playbooks);
    out.problems.push(...r.problems);
  }
  return out;
}
