// Teaches node-routeros 1.6.9 the `!empty` reply of RouterOS ≥ 7.18, on which it would throw outside any promise.

const PATCHED = Symbol.for('sheriff.routeros.empty-reply-patch');

type ProcessPacket = (this: unknown, packet: string[]) => void;

/**
 * Patches `Channel.prototype.processPacket` once per process. RouterOS 7.18+ answers a print that matches
 * nothing with `!empty` and then `!done` on the same tag; the library treats `!empty` as an unknown reply and
 * throws from a socket event handler (an uncaught exception that kills the process). The patch drops the
 * `!empty` sentence so the following `!done` resolves the command with no rows, as on older versions.
 */
export function patchEmptyReply(Channel: unknown): void {
  const proto = (Channel as { prototype?: Record<string | symbol, unknown> } | undefined)?.prototype;
  if (!proto) throw new Error('node-routeros: Channel class not found; the !empty patch needs updating for this library version');
  if (proto[PATCHED]) return;
  const original = proto.processPacket as ProcessPacket | undefined;
  if (typeof original !== 'function') throw new Error('node-routeros: Channel.processPacket not found; the !empty patch needs updating');
  const patched: ProcessPacket = function (this: unknown, packet: string[]) {
    if (packet[0] === '!empty') return;
    original.call(this, packet);
  };
  proto.processPacket = patched;
  proto[PATCHED] = true;
}

/** True once the patch is in place (for tests and the healthcheck detail). */
export function isEmptyReplyPatched(Channel: unknown): boolean {
  return Boolean((Channel as { prototype?: Record<string | symbol, unknown> } | undefined)?.prototype?.[PATCHED]);
}
