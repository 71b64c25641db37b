{
  # Hardening flags for every target: stack protector, FORTIFY, hidden symbols, full RELRO, NX stack.
  "target_defaults": {
    "cflags": ["-fstack-protector-strong", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    "cflags_cc": ["-std=c++17", "-fvisibility-inlines-hidden"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++14"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
    "conditions": [
      ["OS=='linux'", {
        "cflags": ["-U_FORTIFY_SOURCE", "-D_FORTIFY_SOURCE=2", "-O2"],
        "ldflags": ["-Wl,-z,relro", "-Wl,-z,now", "-Wl,-z,noexecstack"]
      }],
      ["OS=='mac'", {
        "xcode_settings": {
          "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
          "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
          "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
          "OTHER_CFLAGS": ["-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"]
        }
      }],
      ["OS=='win'", {
        "msvs_settings": {
          "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17", "/GS", "/sdl", "/guard:cf", "/Qspectre"] },
          "VCLinkerTool": { "AdditionalOptions": ["/DYNAMICBASE", "/HIGHENTROPYVA", "/NXCOMPAT", "/GUARD:CF", "/CETCOMPAT"] }
        }
      }]
    ]
  },
  "targets": [
    {
      # x86-64 SIMD kernels, each in its own library so only it is compiled with the wider ISA;
      # the dispatcher picks one at run time from CPUID.
      "target_name": "pg_isa_sse41",
      "type": "static_library",
      "include_dirs": ["native"],
      "sources": ["native/hash/blake3_sse41.cc", "native/hash/crc32c_sse42.cc"],
      "cflags": ["-fPIC", "-msse4.1", "-msse4.2", "-mpclmul"],
      # The Xcode generator reads xcode_settings, not cflags (reviewed; no macOS SDK in CI).
      "xcode_settings": { "OTHER_CFLAGS": ["-msse4.1", "-msse4.2", "-mpclmul"] },
      "conditions": [["target_arch!='x64'", { "sources!": ["native/hash/blake3_sse41.cc", "native/hash/crc32c_sse42.cc"] }]]
    },
    {
      "target_name": "pg_isa_avx2",
      "type": "static_library",
      "include_dirs": ["native"],
      "sources": ["native/hash/blake3_avx2.cc"],
      "cflags": ["-fPIC", "-mavx2"],
      "xcode_settings": { "OTHER_CFLAGS": ["-mavx2"] },
      "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX2"] } },
      "conditions": [["target_arch!='x64'", { "sources!": ["native/hash/blake3_avx2.cc"] }]]
    },
    {
      "target_name": "pg_isa_avx512",
      "type": "static_library",
      "include_dirs": ["native"],
      "sources": ["native/hash/blake3_avx512.cc"],
      "cflags": ["-fPIC", "-mavx512f", "-mavx512vl", "-mavx512bw"],
      "xcode_settings": { "OTHER_CFLAGS": ["-mavx512f", "-mavx512vl", "-mavx512bw"] },
      "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX512"] } },
      "conditions": [["target_arch!='x64'", { "sources!": ["native/hash/blake3_avx512.cc"] }]]
    },
    {
      # CRC32C by VPCLMULQDQ folding: its own library so the BLAKE3 AVX-512 kernel (run on every
      # AVX-512 CPU) is not compiled with VPCLMULQDQ, which some AVX-512 CPUs lack.
      "target_name": "pg_isa_avx512_clmul",
      "type": "static_library",
      "include_dirs": ["native"],
      "sources": ["native/hash/crc32c_avx512.cc"],
      "cflags": ["-fPIC", "-mavx512f", "-mavx512vl", "-mavx512bw", "-mvpclmulqdq", "-mpclmul", "-msse4.2"],
      "xcode_settings": { "OTHER_CFLAGS": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mvpclmulqdq", "-mpclmul", "-msse4.2"] },
      "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX512"] } },
      "conditions": [["target_arch!='x64'", { "sources!": ["native/hash/crc32c_avx512.cc"] }]]
    },
    {
      # The same folding on 256-bit registers (AVX2 + VPCLMULQDQ, no AVX-512).
      "target_name": "pg_isa_avx2_clmul",
      "type": "static_library",
      "include_dirs": ["native"],
      "sources": ["native/hash/crc32c_avx2.cc"],
      "cflags": ["-fPIC", "-mavx2", "-mvpclmulqdq", "-mpclmul", "-msse4.2"],
      "xcode_settings": { "OTHER_CFLAGS": ["-mavx2", "-mvpclmulqdq", "-mpclmul", "-msse4.2"] },
      "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/arch:AVX2"] } },
      "conditions": [["target_arch!='x64'", { "sources!": ["native/hash/crc32c_avx2.cc"] }]]
    },
    {
      # AArch64 kernels: NEON BLAKE3 (NEON is in the AArch64 base ISA: no flag) and the ARMv8 CRC32
      # extension, which needs +crc; chosen at run time from HWCAP / sysctl / IsProcessorFeaturePresent.
      "target_name": "pg_isa_neon",
      "type": "static_library",
      "include_dirs": ["native"],
      "sources": ["native/hash/blake3_neon.cc"],
      "cflags": ["-fPIC"],
      "conditions": [["target_arch!='arm64'", { "sources!": ["native/hash/blake3_neon.cc"] }]]
    },
    {
      "target_name": "pg_isa_armcrc",
      "type": "static_library",
      "include_dirs": ["native"],
      "sources": ["native/hash/crc32c_arm.cc"],
      "cflags": ["-fPIC", "-march=armv8-a+crc"],
      "xcode_settings": { "OTHER_CFLAGS": ["-march=armv8-a+crc"] },
      "conditions": [["target_arch!='arm64'", { "sources!": ["native/hash/crc32c_arm.cc"], "cflags!": ["-march=armv8-a+crc"] }]]
    },
    {
      "target_name": "procguard",
      "dependencies": ["pg_isa_sse41", "pg_isa_avx2", "pg_isa_avx512", "pg_isa_avx512_clmul", "pg_isa_avx2_clmul", "pg_isa_neon", "pg_isa_armcrc"],
      # Each folder of native/ is an include dir: sources include each other's headers by bare name.
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native", "native/addon", "native/harden", "native/memory", "native/scanner", "native/tree", "native/watch"],
      "sources": [
        "native/addon/addon.cc",
        "native/addon/addon_harden.cc",
        "native/addon/addon_hash.cc",
        "native/addon/addon_memory.cc",
        "native/addon/addon_scanner.cc",
        "native/addon/addon_watch.cc",
        "native/addon/addon_tree.cc",
        "native/addon/addon_tree_sentinel.cc",
        "native/scanner/canary.cc",
        "native/scanner/first_read.cc",
        "native/hash/blake3.cc",
        "native/hash/blake3_portable.cc",
        "native/hash/crc32c.cc",
        "native/hash/dispatch.cc",
        "native/scanner/scanner_clock.cc",
        "native/scanner/scanner_confirm.cc",
        "native/scanner/scanner_file.cc",
        "native/scanner/scanner_maps_linux.cc",
        "native/scanner/scanner_pacing.cc",
        "native/scanner/scanner_pass.cc",
        "native/scanner/scanner_sentinel.cc",
        "native/scanner/scanner_store.cc",
        "native/scanner/scanner_sweep.cc",
        "native/scanner/scanner_worker.cc",
        "native/watch/ticker.cc"
      ],
      "conditions": [
        ["OS!='linux'", { "sources!": ["native/scanner/scanner_maps_linux.cc"], "sources": ["native/scanner/scanner_maps_other.cc", "native/memory/file_view_other.cc", "native/watch/ticker_other.cc"] }],
        ["OS=='linux'", { "sources": ["native/harden/harden_linux.cc", "native/memory/memory_linux.cc", "native/watch/watch_linux.cc", "native/tree/tree_linux.cc", "native/tree/tree_files_linux.cc", "native/tree/tree_sentinel_linux.cc", "native/memory/file_view_linux.cc", "native/watch/ticker_linux.cc"] }],
        ["OS=='mac'", { "sources": ["native/harden/harden_darwin.cc", "native/memory/memory_posix.cc", "native/memory/memory_darwin.cc"] }],
        ["OS=='freebsd'", { "sources": ["native/harden/harden_freebsd.cc", "native/memory/memory_posix.cc", "native/memory/memory_freebsd.cc"] }],
        ["OS=='win'", { "sources": ["native/harden/harden_win.cc", "native/memory/memory_win.cc", "native/tree/tree_win.cc"], "libraries": ["advapi32.lib", "psapi.lib"] }]
      ]
    }
  ]
}
