// Types of the fake's wire codec.
export declare function encodeLength(len: number): Buffer;
export declare function decodeLength(buf: Buffer, offset: number): { len: number; size: number } | null;
export declare function encodeSentence(words: string[]): Buffer;
export declare class SentenceReader {
  push(chunk: Buffer): string[][];
}
