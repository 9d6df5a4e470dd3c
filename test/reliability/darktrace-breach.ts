// Test data: genuine-looking Darktrace model breaches (the shape the darktrace normaliser reads), unique pbids.
let pbid = Math.floor(Math.random() * 1e9);

export function breach(ip: string, extra: { hostname?: string; peer?: string; name?: string; score?: number } = {}) {
  pbid += 1;
  return {
    pbid, time: Date.now(), score: extra.score ?? 0.95,
    model: { now: { name: extra.name ?? 'Compromise / SSH Beacon' } },
    device: { did: pbid % 10_000, ip, ...(extra.hostname ? { hostname: extra.hostname } : {}) },
    ...(extra.peer ? { triggeredComponents: [{ triggeredFilters: [{ filterType: 'Destination IP', trigger: { value: extra.peer } }] }] } : {}),
  };
}
