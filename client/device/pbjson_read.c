/* pbjson_read: JSON text as libprotobuf 3.21's JsonStreamParser reads it,
 * which is more lenient than RFC 8259: strings in single quotes, unknown
 * escapes standing for their character, bare keys, numbers in any form
 * strtod takes once they have a '.' or an exponent. Never reads past
 * `end`. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "pbjson_internal.h"

int pbjson_fail(struct pbjson_reader* r, const char* format, ...) {
  if (r->failed++ || !r->error_size) return -1; /* the first reason only */
  char reason[128];
  va_list args;
  va_start(args, format);
  vsnprintf(reason, sizeof(reason), format, args);
  va_end(args);
  snprintf(r->error, r->error_size, "%s%s%s (at byte %zu)", r->path,
           r->path[0] ? ": " : "", reason, (size_t)(r->p - r->begin));
  return -1;
}

void pbjson_skip_space(struct pbjson_reader* r) { /* \v and \f too */
  while (r->p < r->end && (*r->p == ' ' || (*r->p >= '\t' && *r->p <= '\r')))
    r->p++;
}

int pbjson_at(const struct pbjson_reader* r, const char* word) {
  const size_t n = strlen(word);
  return (size_t)(r->end - r->p) >= n && memcmp(r->p, word, n) == 0;
}

/* RFC 3629: no overlong forms, surrogates or code points above U+10FFFF. */
size_t pbjson_utf8_prefix(const char* text, size_t len) {
  const unsigned char* s = (const unsigned char*)text;
  size_t i = 0;
  while (i < len) {
    const unsigned c = s[i];
    const size_t n = c < 0x80   ? 1
                     : c < 0xc2 ? 0
                     : c < 0xe0 ? 2
                     : c < 0xf0 ? 3
                     : c < 0xf5 ? 4
                                : 0;
    if (n == 0 || len - i < n) break;
    size_t k = 1;
    while (k < n && (s[i + k] & 0xc0) == 0x80) k++;
    if (k < n || (c == 0xe0 && s[i + 1] < 0xa0) ||
        (c == 0xed && s[i + 1] > 0x9f) || (c == 0xf0 && s[i + 1] < 0x90) ||
        (c == 0xf4 && s[i + 1] > 0x8f))
      break;
    i += n;
  }
  return i;
}

static void put_utf8(struct buf* b, unsigned long cp) {
  static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};
  const int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  char u[4];
  for (int k = n - 1; k > 0; k--, cp >>= 6) u[k] = (char)(0x80 | (cp & 0x3f));
  u[0] = (char)(lead[n] | cp);
  buf_append(b, u, (size_t)n);
}

/* The four hex digits at `at`, or -1. */
static long hex4(const struct pbjson_reader* r, const char* at) {
  long v = 0;
  if (r->end - at < 4) return -1;
  for (int k = 0; k < 4; k++) {
    const unsigned char c = (unsigned char)at[k];
    if (!isxdigit(c)) return -1;
    v = v * 16 + (isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

/* A string in double or single quotes: JSON's escapes, \v, and a
 * backslash before any other character stands for that character. */
static int read_string(struct pbjson_reader* r, char** out, size_t* len) {
  struct buf b = BUF_INIT;
  const char quote = *r->p++;
  const char* error = NULL;
  buf_append(&b, "", 0); /* "" is a string too, not NULL */
  while (!error && r->p < r->end && *r->p != quote) {
    if (*r->p != '\\') {
      buf_putc(&b, *r->p++);
    } else if (r->end - r->p < 2) {
      error = "unterminated string";
    } else if (r->p[1] != 'u') {
      const char* at = r->p[1] ? strchr("bfnrtv", r->p[1]) : NULL;
      buf_putc(&b, (char)(at ? "\b\f\n\r\t\v"[at - "bfnrtv"] : r->p[1]));
      r->p += 2;
    } else {
      long cp = hex4(r, r->p + 2);
      if (cp >= 0xd800 && cp < 0xdc00) { /* a high surrogate: a low follows */
        const char* next = r->p + 6;
        const long low = r->end - next >= 2 && next[0] == '\\' && next[1] == 'u'
                             ? hex4(r, next + 2)
                             : -1;
        cp = low >= 0xdc00 && low < 0xe000
                 ? 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00)
                 : -1;
        r->p += 6;
      }
      if (cp < 0 || (cp >= 0xdc00 && cp < 0xe000)) {
        error = "invalid \\u escape";
      } else {
        r->p += 6;
        put_utf8(&b, (unsigned long)cp);
      }
    }
  }
  if (!error && r->p >= r->end) error = "unterminated string";
  if (!error && b.failed) error = "out of memory";
  if (error) {
    buf_free(&b);
    return pbjson_fail(r, "%s", error);
  }
  r->p++;
  *out = b.data;
  *len = b.len;
  return 0;
}

int pbjson_read_integer(const char* s, size_t len, int* negative,
                        uint64_t* magnitude) {
  while (len && *s == ' ') s++, len--;
  while (len && s[len - 1] == ' ') len--;
  *negative = len && *s == '-';
  if (len && (*s == '-' || *s == '+')) s++, len--;
  *magnitude = 0;
  for (size_t k = 0; k < len; k++) {
    const unsigned digit = (unsigned)(s[k] - '0');
    if (digit > 9 || *magnitude > (UINT64_MAX - digit) / 10) return -1;
    *magnitude = *magnitude * 10 + digit;
  }
  return len ? 0 : -1;
}

int pbjson_read_double(const char* s, double* d) {
  char* end;
  *d = strtod(s, &end);
  if (end != s)
    while (isspace((unsigned char)*end)) end++;
  return *s && !*end && isfinite(*d) ? 0 : -1;
}

/* The run of characters that may be part of a number; a double when it
 * has '.', 'e' or 'E' or does not fit 64 bits; no leading zero. */
static int read_number(struct pbjson_reader* r, struct pbjson_value* v) {
  const char* start = r->p;
  int floating = 0;
  while (r->p < r->end && (isdigit((unsigned char)*r->p) ||
                           (*r->p && strchr(".eE+-x", *r->p)))) {
    floating |= *r->p == '.' || *r->p == 'e' || *r->p == 'E';
    r->p++;
  }
  const size_t len = (size_t)(r->p - start);
  char small[64], *text = len < sizeof(small) ? small : malloc(len + 1);
  if (!text) return pbjson_fail(r, "out of memory");
  memcpy(text, start, len);
  text[len] = '\0';
  int negative, rc = 0;
  uint64_t magnitude;
  if (!floating && len >= 2u + (*text == '-') && text[*text == '-'] == '0') {
    rc = pbjson_fail(r, "a number with a leading zero");
  } else if (!floating &&
             pbjson_read_integer(text, len, &negative, &magnitude) == 0 &&
             (!negative || magnitude <= (uint64_t)INT64_MAX + 1)) {
    v->kind = negative ? PBJSON_INT : PBJSON_UINT;
    v->u = magnitude;
    v->i = (int64_t)(0 - magnitude); /* two's complement, for PBJSON_INT */
  } else if (pbjson_read_double(text, &v->d) == 0) {
    v->kind = PBJSON_DOUBLE;
  } else {
    rc = pbjson_fail(r, "not a number: %.20s", text);
  }
  if (text != small) free(text);
  return rc;
}

int pbjson_read_scalar(struct pbjson_reader* r, struct pbjson_value* v) {
  const char c = (char)(r->p < r->end ? *r->p : '\0');
  if (c == '"' || c == '\'') {
    v->kind = PBJSON_STRING;
    return read_string(r, &v->string, &v->len);
  }
  if (c == '-' || isdigit((unsigned char)c)) return read_number(r, v);
  if (pbjson_at(r, "true") || pbjson_at(r, "false")) {
    v->kind = PBJSON_BOOL;
    v->u = c == 't';
    r->p += c == 't' ? 4 : 5;
    return 0;
  }
  return pbjson_fail(r, "expected a value");
}

/* A string, or a bare name other than true, false and null. */
int pbjson_read_key(struct pbjson_reader* r, char** key, size_t* len) {
  if (r->p < r->end && (*r->p == '"' || *r->p == '\''))
    return read_string(r, key, len);
  const char* start = r->p;
  while (r->p < r->end &&
         (isalpha((unsigned char)*r->p) || *r->p == '_' || *r->p == '$' ||
          (r->p > start && isdigit((unsigned char)*r->p))))
    r->p++;
  *len = (size_t)(r->p - start);
  if (!*len || (*len == 4 && !memcmp(start, "true", 4)) ||
      (*len == 4 && !memcmp(start, "null", 4)) ||
      (*len == 5 && !memcmp(start, "false", 5)))
    return pbjson_fail(r, "expected a field name");
  if (!(*key = malloc(*len + 1))) return pbjson_fail(r, "out of memory");
  memcpy(*key, start, *len); /* not strndup: `start` has no NUL after it */
  (*key)[*len] = '\0';
  return 0;
}
