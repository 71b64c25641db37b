/* Test-only shared library: 64 pages of pseudo-random bytes in an executable section that
 * never runs (the target of bit-flip tests), plus one real function to call after dlopen. */
#include <stdint.h>

__asm__(
    ".section .text.pgblob,\"ax\",@progbits\n"
    ".p2align 12\n"
    ".globl pg_blob_start\n"
    ".type pg_blob_start,@object\n"
    "pg_blob_start:\n"
    ".set pgv, 0x9e3779b9\n"
    ".rept 65536\n"
    ".set pgv, (pgv * 1103515245 + 12345) & 0xffffffff\n"
    ".long pgv\n"
    ".endr\n"
    ".globl pg_blob_end\n"
    "pg_blob_end:\n"
    ".previous\n");

extern const uint8_t pg_blob_start[];
extern const uint8_t pg_blob_end[];

__attribute__((visibility("default"))) int pg_testlib_answer(void) { return 42; }
__attribute__((visibility("default"))) const uint8_t* pg_testlib_blob(void) { return pg_blob_start; }
__attribute__((visibility("default"))) uint64_t pg_testlib_blob_size(void) {
  return (uint64_t)(pg_blob_end - pg_blob_start);
}
