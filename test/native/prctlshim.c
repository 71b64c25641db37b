// LD_PRELOAD shim that makes harden()'s read-back disagree: once the process has called
// prctl(PR_SET_DUMPABLE, 0), prctl(PR_GET_DUMPABLE) answers 1 (the kernel really set 0). Every
// other prctl call goes to libc unchanged. The harden tests preload it into a child to show that a
// step whose read-back disagrees is reported verified: false.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <sys/prctl.h>

typedef int (*prctl_fn)(int, unsigned long, unsigned long, unsigned long, unsigned long);
static int lie;

int prctl(int option, ...) {
  static prctl_fn real;
  if (!real) real = (prctl_fn)dlsym(RTLD_NEXT, "prctl");
  va_list ap;
  va_start(ap, option);
  unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long), a4 = va_arg(ap, unsigned long),
                a5 = va_arg(ap, unsigned long);
  va_end(ap);
  int r = real(option, a2, a3, a4, a5);
  if (option == PR_SET_DUMPABLE && a2 == 0 && r == 0) lie = 1;
  if (option == PR_GET_DUMPABLE && lie && r == 0) return 1;
  return r;
}
