// The one way native/ includes the Windows API: <windows.h> without its rarely used parts
// (WIN32_LEAN_AND_MEAN: no winsock.h, which would clash with the winsock2.h that libuv's uv.h
// includes) and without the min/max macros (NOMINMAX: they break std::min/std::max). A file that
// also includes <uv.h> includes it first: uv.h pulls in winsock2.h, which must precede windows.h.
// Extra Win32 headers (psapi.h, aclapi.h, ...) follow this one in the file that needs them.
#pragma once
#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif
