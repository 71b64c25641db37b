// ReadFileAt for POSIX systems (Linux, macOS, FreeBSD): pread until done, EOF or an error.
// Included by exactly one memory_<os>.cc per build.
#pragma once
#include <errno.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

namespace pg {

bool ReadFileAt(int fd, uint64_t offset, void* buf, size_t len, size_t* got, int* err) {
  size_t done = 0;
  while (done < len) {
    ssize_t r = pread(fd, static_cast<uint8_t*>(buf) + done, len - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      *got = done;
      return false;
    }
    if (r == 0) break;  // EOF
    done += static_cast<size_t>(r);
  }
  *got = done;
  return true;
}

}  // namespace pg
