#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for `more` bytes and the NUL; 0 on success. */
static int reserve(struct buf* b, size_t more) {
  if (b->failed) return -1;
  if (more > (size_t)-1 / 2 - b->len) goto fail;
  if (b->len + more + 1 <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + more + 1) cap *= 2;
  char* data = realloc(b->data, cap);
  if (!data) goto fail;
  b->data = data;
  b->cap = cap;
  return 0;
fail:
  b->failed = 1;
  return -1;
}

void buf_append(struct buf* b, const void* data, size_t len) {
  if (reserve(b, len) != 0) return;
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void buf_puts(struct buf* b, const char* s) { buf_append(b, s, strlen(s)); }

void buf_putc(struct buf* b, char c) { buf_append(b, &c, 1); }

void buf_vprintf(struct buf* b, const char* format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  const int n = vsnprintf(NULL, 0, format, copy);
  va_end(copy);
  if (n < 0) {
    b->failed = 1;
    return;
  }
  if (reserve(b, (size_t)n) != 0) return;
  vsnprintf(b->data + b->len, (size_t)n + 1, format, args);
  b->len += (size_t)n;
}

void buf_printf(struct buf* b, const char* format, ...) {
  va_list args;
  va_start(args, format);
  buf_vprintf(b, format, args);
  va_end(args);
}

void buf_clear(struct buf* b) {
  b->len = 0;
  b->failed = 0;
  if (b->data) b->data[0] = '\0';
}

void buf_free(struct buf* b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
}
