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
    {
      # Fault injection, dlopen and kernel-state hooks for the tests; unsafe sweeps for the bench.
      # The SIMD kernels come from the library's own gyp file so the hash dispatch is the same code.
      "target_name": "pg_testhooks",
      "dependencies": [
        "../../binding.gyp:pg_isa_sse41",
        "../../binding.gyp:pg_isa_avx2",
        "../../binding.gyp:pg_isa_avx512"
      ],
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
      # A shared library with pages of code that never run: the target of the bit-flip tests.
      "target_name": "pgtestlib",
      "type": "shared_library",
      "sources": ["pgtestlib.c"],
      "conditions": [["OS!='linux'", { "sources!": ["pgtestlib.c"] }]]
    }
  ]
}
