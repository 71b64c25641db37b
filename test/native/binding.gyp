{
  # Test- and bench-only native code, built by `npm test` (scripts/test-native.js) into
  # test/native/build/Release/. Never part of the package: the library's binding.gyp does not know
  # these targets, and `npm install` never builds them. Linux only (dlopen/mprotect/prctl hooks).
  "target_defaults": {
    "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
    "cflags_cc": ["-std=c++17"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++14"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
  },
  "targets": [
    # The library's SIMD kernels (as in ../../binding.gyp), each compiled with its wider ISA. Declared here,
    # not as dependencies on ../../binding.gyp's targets: gyp would write that file's makefiles into test/.
    {
      "target_name": "pg_test_isa_sse41",
      "type": "static_library",
      "include_dirs": ["../../native"],
      "sources": ["../../native/hash/blake3_sse41.cc", "../../native/hash/crc32c_sse42.cc"],
      "cflags": ["-fPIC", "-msse4.1", "-msse4.2", "-mpclmul"],
      "conditions": [["target_arch!='x64'", { "sources!": ["../../native/hash/blake3_sse41.cc", "../../native/hash/crc32c_sse42.cc"] }]]
    },
    {
      "target_name": "pg_test_isa_avx2",
      "type": "static_library",
      "include_dirs": ["../../native"],
      "sources": ["../../native/hash/blake3_avx2.cc"],
      "cflags": ["-fPIC", "-mavx2"],
      "conditions": [["target_arch!='x64'", { "sources!": ["../../native/hash/blake3_avx2.cc"] }]]
    },
    {
      "target_name": "pg_test_isa_avx512",
      "type": "static_library",
      "include_dirs": ["../../native"],
      "sources": ["../../native/hash/blake3_avx512.cc"],
      "cflags": ["-fPIC", "-mavx512f", "-mavx512vl", "-mavx512bw"],
      "conditions": [["target_arch!='x64'", { "sources!": ["../../native/hash/blake3_avx512.cc"] }]]
    },
    {
      "target_name": "pg_test_isa_avx512_clmul",
      "type": "static_library",
      "include_dirs": ["../../native"],
      "sources": ["../../native/hash/crc32c_avx512.cc"],
      "cflags": ["-fPIC", "-mavx512f", "-mavx512vl", "-mavx512bw", "-mvpclmulqdq", "-mpclmul", "-msse4.2"],
      "conditions": [["target_arch!='x64'", { "sources!": ["../../native/hash/crc32c_avx512.cc"] }]]
    },
    {
      "target_name": "pg_test_isa_avx2_clmul",
      "type": "static_library",
      "include_dirs": ["../../native"],
      "sources": ["../../native/hash/crc32c_avx2.cc"],
      "cflags": ["-fPIC", "-mavx2", "-mvpclmulqdq", "-mpclmul", "-msse4.2"],
      "conditions": [["target_arch!='x64'", { "sources!": ["../../native/hash/crc32c_avx2.cc"] }]]
    },
    {
      "target_name": "pg_test_isa_neon",
      "type": "static_library",
      "include_dirs": ["../../native"],
      "sources": ["../../native/hash/blake3_neon.cc"],
      "cflags": ["-fPIC"],
      "conditions": [["target_arch!='arm64'", { "sources!": ["../../native/hash/blake3_neon.cc"] }]]
    },
    {
      "target_name": "pg_test_isa_armcrc",
      "type": "static_library",
      "include_dirs": ["../../native"],
      "sources": ["../../native/hash/crc32c_arm.cc"],
      "cflags": ["-fPIC", "-march=armv8-a+crc"],
      "conditions": [["target_arch!='arm64'", { "sources!": ["../../native/hash/crc32c_arm.cc"], "cflags!": ["-march=armv8-a+crc"] }]]
    },
    {
      # Fault injection, dlopen and kernel-state hooks for the tests; unsafe sweeps for the bench.
      # The hash code (and so the dispatch) is the library's own sources, compiled here again.
      "target_name": "pg_testhooks",
      "dependencies": ["pg_test_isa_sse41", "pg_test_isa_avx2", "pg_test_isa_avx512", "pg_test_isa_avx512_clmul", "pg_test_isa_avx2_clmul", "pg_test_isa_neon", "pg_test_isa_armcrc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "../../native"],
      "sources": [
        "testhooks.cc",
        "testhooks_kernel.cc",
        "../../native/hash/blake3.cc",
        "../../native/hash/blake3_portable.cc",
        "../../native/hash/crc32c.cc",
        "../../native/hash/dispatch.cc"
      ],
      "conditions": [["OS!='linux'", { "sources=": [] }]],
      "libraries": ["-ldl"]
    },
    {
      # LD_PRELOAD shims for tests that need the C library to lie: a wall-clock step (clockshift.c)
      # and a harden read-back that disagrees (prctlshim.c). Preloaded into test children only.
      "target_name": "pg_clockshift",
      "type": "shared_library",
      "sources": ["clockshift.c"],
      "libraries": ["-ldl"],
      "conditions": [["OS!='linux'", { "sources!": ["clockshift.c"] }]]
    },
    {
      "target_name": "pg_prctlshim",
      "type": "shared_library",
      "sources": ["prctlshim.c"],
      "libraries": ["-ldl"],
      "conditions": [["OS!='linux'", { "sources!": ["prctlshim.c"] }]]
    },
    {
      # A shared library with pages of code that never run: the target of the bit-flip tests.
      "target_name": "pgtestlib",
      "type": "shared_library",
      "sources": ["pgtestlib.c"],
      "conditions": [["OS!='linux'", { "sources!": ["pgtestlib.c"] }]]
    }
  ]
}
