// The `routeros` connector module: MikroTik routers over the RouterOS API (8728, or api-ssl on 8729).
import { z } from 'zod';
import { actionNames } from '../../src/contracts/action.js';
import type { ConnectorModule } from '../../src/contracts/connector.js';
import { cidr, duration, port } from '../../src/contracts/net.js';
import { RouterOsConnector } from './connector.js';

export const ROUTEROS_CONNECTOR = 'routeros';

export const RouterOsOptions = z.object({
  host: z.string().min(1).max(253).regex(/^[A-Za-z0-9.:-]+$/, 'a host name or IP address'),
  /** 8728, or 8729 with tls. */
  port: port.optional(),
  user: z.string().min(1).max(64),
  password: z.string().max(256).default(''),
  tls: z.boolean().default(false),
  /** Accept any certificate (a router's self-signed one) — encrypts, but does not authenticate the router. */
  tlsInsecure: z.boolean().default(false),
  /** PEM of the CA (or the router's self-signed certificate) to trust; or a path in caFile. */
  ca: z.string().max(65_536).optional(),
  caFile: z.string().max(4096).optional(),
  /** Per-command (and connect + login) timeout. */
  timeout: duration.default(10_000),
  poolSize: z.number().int().min(1).max(8).default(2),
  /** Destinations never counted as "external" (SSH blocking and rate limits leave them alone); IPv4 only. */
  internal: z.array(cidr).max(256).default(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']),
  /** Comment of an operator rule in chain=forward that sheriff's rules go above; default: the top of the chain. */
  anchorComment: z.string().min(1).max(64).regex(/^[A-Za-z0-9 _.:-]+$/).optional(),
  listPrefix: z.string().regex(/^[a-z][a-z0-9-]{0,23}$/).default('sheriff'),
  /** The SSH ports of the default block-ssh-egress rule (other port sets get a list and rule of their own). */
  sshPorts: z.array(port).min(1).max(15).default([22, 2222, 2022]),
  /** Entries per temporary script in applyMany. */
  batchSize: z.number().int().min(1).max(1000).default(100),
}).strict();
export type RouterOsOptions = z.infer<typeof RouterOsOptions>;

export const routerosConnector: ConnectorModule<RouterOsOptions> = {
  type: ROUTEROS_CONNECTOR,
  description: 'MikroTik RouterOS over the API: timed address-list entries per device, matched by sheriff-owned /ip firewall filter rules in chain=forward.',
  capabilities: actionNames,
  privileges: 'A RouterOS user in a dedicated group with policies api, read, write (plus policy and test for bulk apply, which runs temporary /system/script batches); the api or api-ssl service reachable from sheriff.',
  optionsSchema: RouterOsOptions,
  create: (name, o, deps) => new RouterOsConnector(name, {
    host: o.host, port: o.port ?? (o.tls ? 8729 : 8728), user: o.user, password: o.password,
    tls: o.tls, tlsInsecure: o.tlsInsecure, ...(o.ca ? { ca: o.ca } : {}), ...(o.caFile ? { caFile: o.caFile } : {}),
    timeoutMs: o.timeout, poolSize: o.poolSize, internal: o.internal,
    ...(o.anchorComment ? { anchorComment: o.anchorComment } : {}),
    listPrefix: o.listPrefix, sshPorts: o.sshPorts, batchSize: o.batchSize,
  }, deps),
};
