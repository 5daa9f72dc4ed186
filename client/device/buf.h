/* buf: a growable byte buffer, the one way the agent builds text and
 * messages (JSON, decision lines, hook environments, request bodies).
 * Appends never fail silently: a buffer that ran out of memory stays marked
 * (buf.failed) and every later append is a no-op, so callers check once at
 * the end. Not thread-safe (the agent has one thread). */
#ifndef SIPRESOLVER_AGENT_BUF_H_
#define SIPRESOLVER_AGENT_BUF_H_

#include <stdarg.h>
#include <stddef.h>

struct buf {
  char* data; /* NUL-terminated while !failed (len excludes the NUL). */
  size_t len;
  size_t cap;
  int failed; /* An allocation failed: the content is incomplete. */
};

#define BUF_INIT \
  { 0, 0, 0, 0 }

void buf_append(struct buf* b, const void* data, size_t len);
void buf_puts(struct buf* b, const char* s);
void buf_putc(struct buf* b, char c);
void buf_printf(struct buf* b, const char* format, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf* b, const char* format, va_list args);
/* Empties the buffer, keeping its memory (and clearing `failed`). */
void buf_clear(struct buf* b);
void buf_free(struct buf* b);

#endif /* SIPRESOLVER_AGENT_BUF_H_ */
