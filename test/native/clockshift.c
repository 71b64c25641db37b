// LD_PRELOAD shim for the clock-step test: a real wall-clock step of +PG_CLOCK_STEP_MS (default
// 120000) for the whole process, PG_CLOCK_STEP_AFTER_MS (default 3000) after it started, without
// touching the system clock. Every wall-clock read through libc moves: clock_gettime on
// CLOCK_REALTIME / _COARSE / CLOCK_TAI, gettimeofday, time (so JS Date.now() and native
// std::chrono::system_clock both jump); CLOCK_MONOTONIC and the others are left alone, as a real
// step (settimeofday, an NTP step) leaves them.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec*);
static clock_gettime_fn real_clock_gettime;
static long long step_ns = 120000LL * 1000000LL;
static long long after_ns = 3000LL * 1000000LL;
static long long start_ns = -1;

static long long ns_of(const struct timespec* ts) { return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec; }

static void resolve(void) {
  if (real_clock_gettime) return;
  real_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
}

__attribute__((constructor)) static void init(void) {
  resolve();
  const char* s = getenv("PG_CLOCK_STEP_MS");
  const char* a = getenv("PG_CLOCK_STEP_AFTER_MS");
  if (s) step_ns = atoll(s) * 1000000LL;
  if (a) after_ns = atoll(a) * 1000000LL;
  struct timespec m;
  if (real_clock_gettime && real_clock_gettime(CLOCK_MONOTONIC, &m) == 0) start_ns = ns_of(&m);
}

static int stepped(void) {
  struct timespec m;
  if (start_ns < 0 || real_clock_gettime(CLOCK_MONOTONIC, &m) != 0) return 0;
  return ns_of(&m) - start_ns >= after_ns;
}

int clock_gettime(clockid_t c, struct timespec* ts) {
  resolve();
  int r = real_clock_gettime(c, ts);
  if (r == 0 && (c == CLOCK_REALTIME || c == CLOCK_REALTIME_COARSE || c == CLOCK_TAI) && stepped()) {
    long long t = ns_of(ts) + step_ns;
    ts->tv_sec = (time_t)(t / 1000000000LL);
    ts->tv_nsec = (long)(t % 1000000000LL);
  }
  return r;
}

int gettimeofday(struct timeval* restrict tv, void* restrict tz) {
  (void)tz;
  struct timespec ts;
  int r = clock_gettime(CLOCK_REALTIME, &ts);
  if (r == 0 && tv) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return r;
}

time_t time(time_t* out) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (out) *out = ts.tv_sec;
  return ts.tv_sec;
}
