// Finds the one MDE machine behind a device IP (and hostname): exact matches only, several → refuse, none → not responsible.
import { parseHostIp } from '../../src/contracts/net.js';
import { ConnectorError, NotResponsibleError } from '../../src/errors.js';
import type { DefenderClient } from './client.js';
import { Machine } from './schemas.js';

/** findbyip wants `2024-01-01T00:00:00Z`; MDE refuses timestamps older than 30 days, so sheriff always asks about now. */
function odataTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The machine's current addresses in sheriff's canonical form (IPv6 compressed, v4-mapped folded), so equality is exact. */
function machineIps(m: Machine): string[] {
  const raw = [...(m.ipAddresses ?? []).map((a) => a.ipAddress ?? ''), m.lastIpAddress ?? ''];
  return raw.flatMap((x) => {
    const p = parseHostIp(x);
    return 'ip' in p ? [p.ip] : [];
  });
}

/** Equal ignoring case; a short step hostname (no dot) also matches the first label of the machine's FQDN. */
export function hostnameMatches(machineName: string | null | undefined, wanted: string): boolean {
  if (!machineName) return false;
  const have = machineName.toLowerCase();
  const want = wanted.toLowerCase();
  if (have === want) return true;
  return !want.includes('.') && have.split('.')[0] === want;
}

/**
 * `ip` and `hostname` must already be validated (canonical IP; hostname a QueryHostname (checkStep, strict)):
 * both end up inside OData string literals.
 */
export async function findMachine(client: DefenderClient, connector: string, ip: string, hostname: string | undefined): Promise<Machine> {
  const found = new Map<string, Machine>();
  const byIp = await client.list(`api/machines/findbyip(ip='${ip}',timestamp=${odataTimestamp(Date.now())})`, Machine);
  for (const m of byIp) found.set(m.id.toLowerCase(), m);
  if (hostname) {
    const filter = encodeURIComponent(`computerDnsName eq '${hostname.toLowerCase()}'`);
    const byName = await client.list(`api/machines?$filter=${filter}`, Machine);
    for (const m of byName) found.set(m.id.toLowerCase(), m);
  }
  // findbyip answers machines seen with the IP within ±15 minutes and the name filter may be loose:
  // keep only machines whose current addresses hold the device IP (and whose name is the step's name).
  const exact = [...found.values()].filter((m) => machineIps(m).includes(ip) && (!hostname || hostnameMatches(m.computerDnsName, hostname)));
  if (exact.length === 0) {
    const near = found.size > 0 ? ` (${found.size} machine(s) were near matches, none exact)` : '';
    throw new NotResponsibleError(connector, `no Defender machine has IP ${ip}${hostname ? ` and name ${hostname}` : ''}${near}`);
  }
  if (exact.length > 1) {
    const ids = exact.map((m) => m.id.slice(0, 12)).join(', ');
    throw new ConnectorError(connector, 'CONNECTOR_AMBIGUOUS', `${exact.length} Defender machines match ${ip}${hostname ? `/${hostname}` : ''} (${ids}…); refusing to guess`, { details: { machineIds: exact.map((m) => m.id) } });
  }
  return exact[0] as Machine;
}
