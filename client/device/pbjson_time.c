/* pbjson_time: google.protobuf.Duration and Timestamp in their JSON string
 * forms, written and read exactly as libprotobuf 3.21 does, odd corners
 * included (see each function). Dates are proleptic Gregorian, UTC, years
 * 1 to 9999; the day arithmetic is H. Hinnant's days_from_civil. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

#include "pbjson_internal.h"

#define DURATION_MAX 315576000000    /* seconds in 10000 years */
#define TIMESTAMP_MIN (-62135596800) /* 0001-01-01T00:00:00Z */
#define TIMESTAMP_MAX (253402300799) /* 9999-12-31T23:59:59Z */

/* "-1.500s": the fraction in 3, 6 or 9 digits, printed as libprotobuf
 * does, through a double from the nanos taken as unsigned, so that seconds
 * > 0 with nanos < 0 prints the same odd text. */
int pbjson_print_duration(struct buf* out, int64_t seconds, int32_t nanos) {
  if (seconds < -DURATION_MAX || seconds > DURATION_MAX ||
      nanos <= -1000000000 || nanos >= 1000000000 || (seconds < 0 && nanos > 0))
    return -1;
  const int negative = seconds < 0 || (seconds == 0 && nanos < 0);
  const uint32_t u = (uint32_t)(negative ? -nanos : nanos);
  buf_printf(out, "\"%s%" PRId64, negative ? "-" : "",
             negative ? -seconds : seconds);
  if (u != 0) {
    char fraction[32];
    snprintf(fraction, sizeof(fraction), "%.*f",
             u % 1000      ? 9
             : u % 1000000 ? 6
                           : 3,
             u / 1e9);
    buf_puts(out, fraction + 1); /* without the digit before the point */
  }
  buf_puts(out, "s\"");
  return 0;
}

/* "2026-12-06T18:00:00.123Z": 0, 3, 6 or 9 fractional digits. */
int pbjson_print_timestamp(struct buf* out, int64_t seconds, int32_t nanos) {
  if (seconds < TIMESTAMP_MIN || seconds > TIMESTAMP_MAX || nanos < 0 ||
      nanos > 999999999)
    return -1;
  const int64_t s = (seconds % 86400 + 86400) % 86400;
  const int64_t z = (seconds - s) / 86400 + 719468; /* days since 0000-03-01 */
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  buf_printf(out, "\"%04d-%02d-%02dT%02d:%02d:%02d",
             (int)(yoe + era * 400 + (month <= 2)), (int)month,
             (int)(doy - (153 * mp + 2) / 5 + 1), (int)(s / 3600),
             (int)(s / 60 % 60), (int)(s % 60));
  if (nanos && nanos % 1000000 == 0)
    buf_printf(out, ".%03d", (int)(nanos / 1000000));
  else if (nanos && nanos % 1000 == 0)
    buf_printf(out, ".%06d", (int)(nanos / 1000));
  else if (nanos)
    buf_printf(out, ".%09d", (int)nanos);
  buf_puts(out, "Z\"");
  return 0;
}

/* [-]SECONDS[.FRACTION]s, the seconds as libprotobuf's safe_strtou64 takes
 * them (spaces around, a '+'), the fraction at most 9 digits unless they
 * are all zeros. */
int pbjson_read_duration(const char* s, size_t len, int64_t* seconds,
                         int32_t* nanos) {
  if (!len || s[--len] != 's') return -1;
  const char *end = s + len, *dot = NULL, *nonzero;
  const int minus = len && *s == '-';
  s += minus;
  for (const char* c = s; c < end; c++)
    if (*c == '.') dot = c;
  int negative;
  uint64_t u;
  if (pbjson_read_integer(s, (size_t)((dot ? dot : end) - s), &negative, &u) ||
      negative)
    return -1;
  *nanos = 0;
  for (nonzero = dot ? dot + 1 : end; nonzero < end && *nonzero == '0';)
    nonzero++;
  if (nonzero < end) { /* dot[1] .. end[-1]: the fraction's digits */
    if (end - dot - 1 > 9) return -1;
    for (ptrdiff_t k = 1; k <= 9; k++) {
      const int digit = k < end - dot ? dot[k] - '0' : 0;
      if (digit < 0 || digit > 9) return -1;
      *nanos = *nanos * 10 + digit;
    }
  }
  /* libprotobuf multiplies the unsigned seconds by the sign: they wrap */
  *seconds = (int64_t)(minus ? 0 - u : u);
  *nanos = minus ? -*nanos : *nanos;
  return *seconds < -DURATION_MAX || *seconds > DURATION_MAX ? -1 : 0;
}

/* One to `width` digits within [min, max], as libprotobuf's ParseInt. */
static const char* time_int(const char* s, int width, int min, int max,
                            int* v) {
  if (!isdigit((unsigned char)*s)) return NULL;
  for (*v = 0; width-- > 0 && isdigit((unsigned char)*s); s++)
    *v = *v * 10 + (*s - '0');
  return *v >= min && *v <= max ? s : NULL;
}

/* RFC 3339 as libprotobuf's ParseTime reads it: a C string (a NUL ends
 * it), fewer digits than usual allowed, Z or an offset, and the result not
 * checked against the range it prints. */
int pbjson_read_timestamp(const char* s, int64_t* seconds, int32_t* nanos) {
  static const char days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y, mo, d, h, mi, sec, oh, om;
  if (!(s = time_int(s, 4, 1, 9999, &y)) || *s++ != '-' ||
      !(s = time_int(s, 2, 1, 12, &mo)) || *s++ != '-' ||
      !(s = time_int(s, 2, 1, 31, &d)) || *s++ != 'T' ||
      !(s = time_int(s, 2, 0, 23, &h)) || *s++ != ':' ||
      !(s = time_int(s, 2, 0, 59, &mi)) || *s++ != ':' ||
      !(s = time_int(s, 2, 0, 59, &sec)) ||
      d > days[mo - 1] + (mo == 2 && y % 4 == 0 && (y % 100 || y % 400 == 0)))
    return -1;
  const int ya = y - (mo <= 2), era = ya / 400, yoe = ya - era * 400;
  const int doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
  const int64_t day = (int64_t)era * 146097 + (int64_t)yoe * 365 + yoe / 4 -
                      yoe / 100 + doy - 719468;
  *seconds = day * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec;
  *nanos = 0;
  if (*s == '.') {
    if (!isdigit((unsigned char)*++s)) return -1;
    int digits = 0;
    for (; isdigit((unsigned char)*s); s++)
      if (digits++ < 9) *nanos = *nanos * 10 + (*s - '0');
    for (; digits < 9; digits++) *nanos *= 10;
  }
  if (*s == 'Z') return s[1] ? -1 : 0;
  if (*s != '+' && *s != '-') return -1;
  const int64_t sign = *s++ == '+' ? -1 : 1;
  if (!(s = time_int(s, 2, 0, 23, &oh)) || *s++ != ':' ||
      !(s = time_int(s, 2, 0, 59, &om)) || *s)
    return -1;
  *seconds += sign * (oh * 3600 + om * 60);
  return 0;
}
