#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include "buf.h"

void log_line(const char* format, ...) {
  /* One write per line, so lines of the agent and its hooks never mix. */
  struct buf line = BUF_INIT;
  va_list args;
  va_start(args, format);
  buf_puts(&line, AGENT_NAME ": ");
  buf_vprintf(&line, format, args);
  va_end(args);
  buf_putc(&line, '\n');
  if (!line.failed) fwrite(line.data, 1, line.len, stderr);
  buf_free(&line);
}
