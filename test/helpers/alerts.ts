// Test helper: normalised alerts with sensible defaults.
import type { NormalisedAlert } from '../../src/contracts/alert.js';

let n = 0;

export function alert(over: Omit<Partial<NormalisedAlert>, 'device'> & { device?: Partial<NormalisedAlert['device']> } = {}): NormalisedAlert {
  n += 1;
  const { device, ...rest } = over;
  return {
    id: `t-${n}`,
    source: 'darktrace',
    name: 'Compromise / SSH Beacon',
    score: 0.7,
    detectedAt: '2026-03-01T10:00:00.000Z',
    receivedAt: '2026-03-01T10:00:01.000Z',
    device: { ip: '10.1.2.3', tags: [], ...device },
    raw: {},
    ...rest,
  };
}
