#include "clock.h"

#include <time.h>

int64_t clock_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void clock_wall(int64_t* seconds, int32_t* nanos) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  *seconds = t.tv_sec;
  *nanos = (int32_t)t.tv_nsec;
}
