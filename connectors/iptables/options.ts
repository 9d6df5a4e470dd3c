// Options of the iptables/ipset connector (strict), with the defaults documented in docs/iptables.md.
import { z } from 'zod';
import { cidr, defaultInternalCidrs } from '../../src/contracts/net.js';

/** A binary path: absolute, no spaces or shell characters (execFile never uses a shell, but paths are shown in logs). */
const binPath = z.string().max(256).regex(/^\/[A-Za-z0-9._/-]+$/, 'an absolute path such as /usr/sbin/ipset');

export const IptablesOptions = z.object({
  /** Run every command inside this network namespace (`ip netns exec NS …`). */
  netns: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/, 'a network namespace name (letters, digits, _ . -)').optional(),
  /** forward: this host is the gateway (FORWARD); output: contain this host itself (OUTPUT + INPUT). */
  hook: z.enum(['forward', 'output']).default('forward'),
  /** Destinations that count as internal: SSH blocking and rate limits only apply to other (external) destinations. */
  internal: z.array(cidr).max(256).default(defaultInternalCidrs),
  /** Room for growth of each set (kernel default 65536 is too small; ssh blocks use one entry per port). */
  maxelem: z.number().int().min(1024).max(16_777_216).default(1_048_576),
  /** Short prefix of set names (≤ 31 chars in total) and, upper-cased, of chain names; two instances need two prefixes. */
  prefix: z.string().regex(/^[a-z][a-z0-9]{0,11}$/, 'lower-case letters and digits, at most 12, starting with a letter').default('sheriff'),
  /** Seconds added to each entry's kernel timeout beyond the action's expiry, so sheriff's own revert normally comes first. */
  timeoutMargin: z.number().int().min(0).max(86_400).default(30),
  ipv6: z.boolean().default(true),
  /** Seconds to wait for the xtables lock (`-w`). */
  lockWait: z.number().int().min(1).max(600).default(10),
  binaries: z.object({
    ip: binPath.optional(),
    ipset: binPath.optional(),
    iptables: binPath.optional(),
    ip6tables: binPath.optional(),
    iptablesRestore: binPath.optional(),
    ip6tablesRestore: binPath.optional(),
  }).strict().default({}),
}).strict();

export type IptablesOptions = z.output<typeof IptablesOptions>;
