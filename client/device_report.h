/* device_report: the line a device's SIP stack (or a one-line shell command)
 * sends an agent's --report_socket after each REGISTER, shared by both
 * agents so they accept and refuse exactly the same lines:
 *
 *     ADDRESS:PORT CODE
 *
 * ADDRESS an IPv4 address or an IPv6 address in brackets ([2001:db8::1]),
 * parsed into its canonical text (2001:DB8:0::1 reads 2001:db8::1),
 * PORT 1-65535, CODE the final SIP response (100-699) or 0 when none came;
 * fields separated by one or more spaces or tabs; a trailing \r and spaces
 * are ignored. A datagram may carry several lines; empty lines are skipped.
 * Pure; no allocation. */
#ifndef SIPRESOLVER_CLIENT_DEVICE_REPORT_H_
#define SIPRESOLVER_CLIENT_DEVICE_REPORT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { DEVICE_REPORT_MAX_LINE = 256 };

struct device_report {
  char address[46]; /* The IP, never bracketed. */
  uint32_t port;
  uint32_t code; /* 0: no final response. */
};

/* Parses one line (without its \n). Returns 0 and fills `out`, or -1 with
 * `*error` pointing at a static reason ("CODE must be 0 or 100-699"). */
int device_report_parse(const char* line, size_t len, struct device_report* out,
                        const char** error);

/* The next line of a datagram at `*cursor` (before `end`), without its \n:
 * sets `*line` and `*len`, moves `*cursor` past it and returns 1; returns 0
 * when no line is left. Lines of nothing but blanks and \r are skipped. */
int device_report_next_line(const char** cursor, const char* end,
                            const char** line, size_t* len);

/* A registration the device completed: a 2xx. */
int device_report_registered(const struct device_report* r);

#ifdef __cplusplus
}
#endif

#endif /* SIPRESOLVER_CLIENT_DEVICE_REPORT_H_ */
