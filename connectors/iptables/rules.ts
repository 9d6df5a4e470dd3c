// Pure text builders: `ipset restore` create lines and the iptables-restore text of sheriff's own chain.
import { fixedSets, type Family, type FixedKind, type Group, type GroupRef, type Names } from './sets.js';

export interface SetSpec {
  name: string;
  type: string;
  family: Family;
  /** Member sets carry a kernel timeout and the action id as a comment; data sets hold a group's networks. */
  timed: boolean;
}

const timedOpts = 'timeout 2147483 comment';

export function createLine(s: SetSpec, maxelem: number): string {
  return `create ${s.name} ${s.type} family ${s.family === 4 ? 'inet' : 'inet6'} hashsize 1024 maxelem ${maxelem}${s.timed ? ` ${timedOpts}` : ''}`;
}

export function fixedSetSpecs(names: Names, f: Family): SetSpec[] {
  return (Object.keys(fixedSets) as FixedKind[]).map((k) => ({ name: names.fixed(k, f), type: fixedSets[k], family: f, timed: true }));
}

export function groupSetSpecs(names: Names, g: Group): SetSpec[] {
  const specs: SetSpec[] = [{ name: names.member(g), type: 'hash:ip', family: g.family, timed: true }];
  const data = names.data(g);
  if (data) specs.push({ name: data, type: 'hash:net', family: g.family, timed: false });
  return specs;
}

/** The group's own data entries (allowed networks, the blocked endpoint); re-added on every apply (idempotent). */
export function groupDataLines(names: Names, g: Group): string[] {
  const data = names.data(g);
  if (!data) return [];
  const nets = g.kind === 'q' ? g.allow : g.kind === 'bx' ? [g.endpoint] : [];
  return nets.map((n) => `add ${data} ${n}`);
}

/**
 * sheriff's chain for one family, complete. Order matters: quarantine and endpoint blocks apply to every destination;
 * after the RETURN for internal destinations come the rules meant only for external traffic (ssh, rate limits).
 */
export function chainRestoreText(names: Names, f: Family, groups: GroupRef[]): string {
  const c = names.chain;
  const reject = f === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable';
  const lines = ['*filter', `:${c} - [0:0]`];
  const rejectBoth = (match: string) => {
    lines.push(`-A ${c} -p tcp ${match} -j REJECT --reject-with tcp-reset`);
    lines.push(`-A ${c} ${match} -j REJECT --reject-with ${reject}`);
  };
  const sorted = [...groups].filter((g) => g.family === f).sort((a, b) => a.member.localeCompare(b.member));
  for (const g of sorted) {
    if (g.kind !== 'q') continue;
    const m = g.member;
    const a = g.data as string;
    lines.push(`-A ${c} -m set --match-set ${m} src -m set ! --match-set ${a} dst -j DROP`);
    lines.push(`-A ${c} -m set --match-set ${m} dst -m set ! --match-set ${a} src -j DROP`);
  }
  rejectBoth(`-m set --match-set ${names.fixed('bedp', f)} src,dst,dst`);
  rejectBoth(`-m set --match-set ${names.fixed('beap', f)} dst,dst`);
  rejectBoth(`-m set --match-set ${names.fixed('bea', f)} dst`);
  for (const g of sorted) {
    if (g.kind === 'bx') rejectBoth(`-m set --match-set ${g.member} src -m set --match-set ${g.data as string} dst`);
  }
  lines.push(`-A ${c} -m set --match-set ${names.internal(f)} dst -j RETURN`);
  lines.push(`-A ${c} -p tcp -m set --match-set ${names.fixed('ssh', f)} src,dst -j REJECT --reject-with tcp-reset`);
  // Always present, so conntrack runs in this netns from start(): a connection opened before a rate limit arrives
  // is then ESTABLISHED, not picked up mid-stream as NEW (and dropped) when the first conntrack rule appears.
  lines.push(`-A ${c} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN`);
  for (const g of sorted) {
    if (g.kind !== 'rl') continue;
    lines.push(`-A ${c} -m set --match-set ${g.member} src -m conntrack --ctstate NEW -m hashlimit --hashlimit-above ${g.perMinute}/minute --hashlimit-burst ${g.burst} --hashlimit-mode srcip --hashlimit-name ${g.hashlimitName} -j DROP`);
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** Built-in chains that jump to sheriff's chain for a hook. */
export function hookChains(hook: 'forward' | 'output'): string[] {
  return hook === 'forward' ? ['FORWARD'] : ['OUTPUT', 'INPUT'];
}
