// Webhook body → payload items: one JSON value, a JSON array, or newline-delimited JSON; errors carry positions.
import { SheriffError } from '../errors.js';

/** Where JSON.parse gave up: Node 20's messages often omit the offset, so find it with a small scanner. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++; };
  const fail = (): never => { throw i; };
  const lit = (word: string) => { if (text.startsWith(word, i)) i += word.length; else fail(); };
  const str = () => {
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return; }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') { if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) { i++; fail(); } i += 6; continue; }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) { i++; fail(); }
        i += 2; continue;
      }
      i++;
    }
    fail();
  };
  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail(); else i += m[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws(); if (text[i] !== '"') fail(); str(); ws();
        if (text[i] !== ':') fail(); i++; value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail();
      }
    } else if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail();
      }
    } else if (c === '"') str();
    else if (c === 't') lit('true');
    else if (c === 'f') lit('false');
    else if (c === 'n') lit('null');
    else num();
  };
  try {
    value(); ws();
    return i < text.length ? i : -1;
  } catch (at) {
    return typeof at === 'number' ? at : 0;
  }
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function invalid(text: string, err: unknown, base = 0, whole = text): SheriffError {
  const local = Math.max(0, jsonErrorOffset(text));
  const position = base + local;
  const { line, column } = lineCol(whole, position);
  const reason = (err as Error).message.split('\n')[0]?.slice(0, 200) ?? 'invalid JSON';
  return new SheriffError('INVALID_JSON', `invalid JSON at position ${position} (line ${line}, column ${column}): ${reason}`, {
    details: { position, line, column },
  });
}

/**
 * Items of a body. `ndjson` forces line mode; otherwise a body that is not one JSON value but whose lines are
 * is read as NDJSON too, because detectors (Zeek, log shippers) often send JSON lines as application/json.
 */
export function parseItems(body: Buffer | string, ndjson: boolean): unknown[] {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') throw new SheriffError('INVALID_JSON', 'the body is empty', { details: { position: 0, line: 1, column: 1 } });
  if (!ndjson) {
    try {
      const v: unknown = JSON.parse(text);
      return Array.isArray(v) ? v : [v];
    } catch (err) {
      const first = text.indexOf('\n');
      const firstLine = first < 0 ? '' : text.slice(0, first).trim();
      if (!firstLine || !looksLikeValue(firstLine)) throw invalid(text, err);
    }
  }
  const items: unknown[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    const start = offset;
    offset += line.length + 1;
    if (line.trim() === '') continue;
    try {
      items.push(JSON.parse(line));
    } catch (err) {
      throw invalid(line, err, start, text);
    }
  }
  return items;
}

function looksLikeValue(line: string): boolean {
  try { JSON.parse(line); return true; } catch { return false; }
}
