// Runs ipset/iptables through execFile (never a shell), optionally inside a netns, and maps failures to catalogue errors.
import { execFile } from 'node:child_process';
import { ConnectorError } from '../../src/errors.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one program with arguments and optional stdin; resolves with the exit code, rejects only when it cannot run. */
export type Runner = (file: string, args: readonly string[], input?: string) => Promise<RunResult>;

export const execRunner: Runner = (file, args, input) => new Promise((resolve, reject) => {
  const child = execFile(file, [...args], { maxBuffer: 1024 * 1024 * 1024, timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) => {
    if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
      reject(err);
      return;
    }
    if (err && err.killed) {
      reject(Object.assign(new Error(`${file} timed out`), { code: 'ETIMEDOUT' }));
      return;
    }
    const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
    resolve({ code, stdout, stderr });
  });
  child.stdin?.on('error', () => {}); // a program that exits early closes stdin; its exit code tells the story
  child.stdin?.end(input ?? '');
});

const permissionRe = /Operation not permitted|Permission denied|you must be root|must be run as root/i;
const missingRe = /No such file or directory|not found|command not found/i;

/** Turns a failed run (or a spawn error) into a typed ConnectorError; stderr is from our own tools and holds no secrets. */
export function classify(connector: string, what: string, failure: RunResult | NodeJS.ErrnoException): ConnectorError {
  if (failure instanceof Error) {
    if (failure.code === 'ENOENT') {
      return new ConnectorError(connector, 'CONNECTOR_UNAVAILABLE', `${what}: program not found; install the iptables and ipset packages (and iproute2 for netns)`, { retryable: false, cause: failure });
    }
    if (failure.code === 'EACCES' || failure.code === 'EPERM') {
      return new ConnectorError(connector, 'CONNECTOR_AUTH', `${what}: not permitted; run as root or grant CAP_NET_ADMIN`, { retryable: false, cause: failure });
    }
    if (failure.code === 'ETIMEDOUT') return new ConnectorError(connector, 'CONNECTOR_TIMEOUT', `${what}: timed out`, { retryable: true, cause: failure });
    return new ConnectorError(connector, 'CONNECTOR_UNAVAILABLE', `${what}: ${failure.message}`, { retryable: true, cause: failure });
  }
  const text = failure.stderr.trim().split('\n').slice(0, 3).join(' | ').slice(0, 400);
  if (/Cannot open network namespace|Invalid netns/i.test(text)) {
    return new ConnectorError(connector, 'CONNECTOR_UNAVAILABLE', `${what}: network namespace unavailable: ${text}`, { retryable: true });
  }
  if (/^exec of .* failed/im.test(text) && missingRe.test(text)) {
    return new ConnectorError(connector, 'CONNECTOR_UNAVAILABLE', `${what}: program not found; install the iptables and ipset packages: ${text}`, { retryable: false });
  }
  if (permissionRe.test(text)) {
    return new ConnectorError(connector, 'CONNECTOR_AUTH', `${what}: not permitted; run as root or grant CAP_NET_ADMIN: ${text}`, { retryable: false });
  }
  if (/xtables lock|holding the xtables lock|Resource temporarily unavailable/i.test(text)) {
    return new ConnectorError(connector, 'CONNECTOR_TIMEOUT', `${what}: the xtables lock is held by another program: ${text}`, { retryable: true });
  }
  if (/Hash is full|maximal number of elements/i.test(text)) {
    return new ConnectorError(connector, 'CONNECTOR_REJECTED', `${what}: set is full; raise the maxelem option (new sets only) : ${text}`, { retryable: false });
  }
  return new ConnectorError(connector, 'CONNECTOR_REJECTED', `${what} failed (exit ${failure.code}): ${text}`, { retryable: false });
}
