// RouterOS API wire codec (MikroTik "API" manual): length-prefixed words, sentences ended by a zero-length word.

/**
 * Encodes a word length with the 1–5 byte prefixes of the API protocol (0x80, 0xC0, 0xE0, 0xF0 marks).
 * @param {number} len
 * @returns {Buffer}
 */
export function encodeLength(len) {
  if (len < 0x80) return Buffer.from([len]);
  if (len < 0x4000) return Buffer.from([((len >> 8) & 0x3f) | 0x80, len & 0xff]);
  if (len < 0x200000) return Buffer.from([((len >> 16) & 0x1f) | 0xc0, (len >> 8) & 0xff, len & 0xff]);
  if (len < 0x10000000) return Buffer.from([((len >> 24) & 0x0f) | 0xe0, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
  return Buffer.from([0xf0, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
}

/**
 * Decodes a length prefix at `offset`.
 * @param {Buffer} buf
 * @param {number} offset
 * @returns {{ len: number, size: number } | null} null when the buffer does not hold the whole prefix yet
 */
export function decodeLength(buf, offset) {
  if (offset >= buf.length) return null;
  const b = /** @type {number} */ (buf[offset]);
  /** @type {number} */
  let size;
  if ((b & 0x80) === 0) size = 1;
  else if ((b & 0xc0) === 0x80) size = 2;
  else if ((b & 0xe0) === 0xc0) size = 3;
  else if ((b & 0xf0) === 0xe0) size = 4;
  else if (b === 0xf0) size = 5;
  else throw new Error(`reserved control byte 0x${b.toString(16)}`);
  if (offset + size > buf.length) return null;
  if (size === 1) return { len: b, size };
  if (size === 5) return { len: buf.readUInt32BE(offset + 1), size };
  const masks = { 2: 0x3f, 3: 0x1f, 4: 0x0f };
  let len = b & /** @type {number} */ (masks[/** @type {2|3|4} */ (size)]);
  for (let i = 1; i < size; i++) len = (len << 8) | /** @type {number} */ (buf[offset + i]);
  return { len: len >>> 0, size };
}

/**
 * Encodes one sentence (words + terminating zero-length word).
 * @param {string[]} words
 * @returns {Buffer}
 */
export function encodeSentence(words) {
  const parts = [];
  for (const w of words) {
    const data = Buffer.from(w, 'latin1');
    parts.push(encodeLength(data.length), data);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Accumulates bytes from a socket and yields complete sentences. */
export class SentenceReader {
  constructor() {
    /** @type {Buffer} */
    this.buf = Buffer.alloc(0);
    /** @type {string[]} */
    this.words = [];
  }

  /**
   * @param {Buffer} chunk
   * @returns {string[][]} complete sentences found so far
   */
  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    /** @type {string[][]} */
    const out = [];
    let off = 0;
    for (;;) {
      const l = decodeLength(this.buf, off);
      if (!l || off + l.size + l.len > this.buf.length) break;
      const word = this.buf.subarray(off + l.size, off + l.size + l.len).toString('latin1');
      off += l.size + l.len;
      if (l.len === 0) {
        if (this.words.length) out.push(this.words);
        this.words = [];
      } else {
        this.words.push(word);
      }
    }
    this.buf = this.buf.subarray(off);
    return out;
  }
}
