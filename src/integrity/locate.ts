/** Byte-level location of a change inside one page: memory as it is now against a reference copy. */
export interface ByteDiff {
  /** Offsets within the page of every differing byte (at most `limit`). */
  offsets: number[];
  /** Total number of differing bytes. */
  count: number;
  /** XOR of the first differing byte: which bits flipped. */
  firstXor: number;
}

export function diffBytes(current: Uint8Array, reference: Uint8Array, limit = 32): ByteDiff {
  const n = Math.min(current.length, reference.length);
  const offsets: number[] = [];
  let count = 0;
  let firstXor = 0;
  for (let i = 0; i < n; i++) {
    if (current[i] === reference[i]) continue;
    if (count === 0) firstXor = current[i] ^ reference[i];
    count++;
    if (offsets.length < limit) offsets.push(i);
  }
  return { offsets, count, firstXor };
}
