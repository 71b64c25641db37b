/* A child for the process-tree relocation test, built twice by test-windows.sh: linked at 0x150000000
 * and at 0x160000000, relocations kept (--dynamicbase). Its .text holds absolute addresses (movabs:
 * DIR64 fixups), so the two files' code differs exactly where the relocations apply.
 * Prints {"pid":N,"main":"0x..."} (main's address as the movabs sees it) and waits until stdin closes. */
#include <windows.h>
#include <stdio.h>

int main(void) {
  void *a;
  __asm__ volatile("movabs $main, %0" : "=r"(a));
  printf("{\"pid\":%lu,\"main\":\"0x%llx\"}\n", GetCurrentProcessId(), (unsigned long long)(ULONG_PTR)a);
  fflush(stdout);
  while (getchar() != EOF) {
  }
  return 0;
}
