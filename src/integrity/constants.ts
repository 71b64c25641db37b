/** Digests are kept per 4 KiB page on every platform (native/hash/hash.h kPageSize). */
export const PAGE_SIZE = 4096;
/** Bytes kept per page (native/hash/hash.h kDigestSize). Digest slots are written only in native code. */
export const DIGEST_SIZE = 16;
