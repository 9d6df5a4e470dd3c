// The `defender` connector module: Microsoft Defender for Endpoint machine isolation (and IP indicators when enabled).
import { z } from 'zod';
import type { ConnectorModule } from '../../src/contracts/connector.js';
import { DefenderConnector } from './connector.js';

/** https everywhere; plain http only to loopback (tests, local proxies). */
const endpoint = z.string().max(512).url().refine((s) => {
  const u = new URL(s);
  return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname));
}, 'must be an https URL (http only for 127.0.0.1)').refine((s) => !new URL(s).search && !new URL(s).hash && !new URL(s).username, 'no query, fragment or credentials in the URL');

export const DefenderOptions = z.object({
  tenantId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,127}$/, 'a tenant GUID or domain'),
  clientId: z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'the app registration\'s client id (GUID)'),
  clientSecret: z.string().min(1).max(1024),
  baseUrl: endpoint.default('https://api.securitycenter.microsoft.com'),
  loginUrl: endpoint.default('https://login.microsoftonline.com'),
  scope: z.string().regex(/^https:\/\/[A-Za-z0-9.-]+\/\.default$/, 'an app-id URI ending in /.default').default('https://api.securitycenter.microsoft.com/.default'),
  isolationType: z.enum(['Full', 'Selective']).default('Full'),
  indicators: z.boolean().default(false),
  timeoutMs: z.number().int().min(100).max(120_000).default(15_000),
}).strict();
export type DefenderOptions = z.infer<typeof DefenderOptions>;

export const defenderConnector: ConnectorModule<DefenderOptions> = {
  type: 'defender',
  description: 'Microsoft Defender for Endpoint: quarantine-device by machine isolation (Full or Selective); block-endpoint (scope all, whole IP) by tenant IP indicators when `indicators: true`.',
  capabilities: ['quarantine-device', 'block-endpoint'],
  privileges: 'Entra ID app registration with WindowsDefenderATP application permissions Machine.Read.All and Machine.Isolate (admin-consented); Ti.ReadWrite.All as well when `indicators: true`. The app must be allowed the device groups of the machines it isolates.',
  optionsSchema: DefenderOptions,
  create: (name, options, deps) => new DefenderConnector(name, options, deps),
};
