/* reports: the --report_socket, where the device's SIP stack (or a shell
 * one-liner: sipresolver-agent --report_socket=PATH --report='...') writes
 * "ADDRESS:PORT CODE" after each REGISTER (client/device_report.h). A unix
 * datagram socket: no connection to keep, one write per report, and the
 * agent reads each datagram whole. Bad lines are counted and logged, never
 * fatal. */
#ifndef SIPRESOLVER_AGENT_REPORTS_H_
#define SIPRESOLVER_AGENT_REPORTS_H_

#include <stddef.h>

#include "device_report.h"

struct report_socket {
  int fd; /* -1 when closed. */
  const char* path;
  unsigned good, bad;
};

/* Binds `path` (a stale socket file there is replaced; mode 0660). 0, or
 * -1 with the reason. */
int report_socket_open(struct report_socket* s, const char* path, char* error,
                       size_t error_size);
/* Reads every waiting datagram and hands each good line on. */
void report_socket_read(struct report_socket* s,
                        void (*on_report)(void* arg,
                                          const struct device_report* report),
                        void* arg);
/* Closes the socket and removes its file. */
void report_socket_close(struct report_socket* s);
/* Sends `line` to the socket at `path` (for --report). 0, or -1 with the
 * reason. */
int report_socket_send(const char* path, const char* line, char* error,
                       size_t error_size);

#endif /* SIPRESOLVER_AGENT_REPORTS_H_ */
