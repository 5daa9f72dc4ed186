#include "device_report.h"

#include <arpa/inet.h>
#include <string.h>

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* A decimal number of at most `digits` digits; -1 when there is none. */
static long parse_number(const char** p, const char* end, int digits) {
  long value = 0;
  int n = 0;
  while (*p < end && **p >= '0' && **p <= '9') {
    if (++n > digits) return -1;
    value = value * 10 + (**p - '0');
    ++*p;
  }
  return n == 0 ? -1 : value;
}

int device_report_parse(const char* line, size_t len, struct device_report* out,
                        const char** error) {
  const char *p = line, *end = line + len;
  if (len > DEVICE_REPORT_MAX_LINE) {
    *error = "line longer than 256 bytes";
    return -1;
  }
  while (end > p && (is_blank(end[-1]) || end[-1] == '\r')) --end;
  while (p < end && is_blank(*p)) ++p;
  /* ADDRESS: up to the last ':' before the first blank. */
  const char* field_end = p;
  while (field_end < end && !is_blank(*field_end)) ++field_end;
  const char* colon = field_end;
  while (colon > p && colon[-1] != ':') --colon;
  if (colon == p) {
    *error = "expected ADDRESS:PORT CODE";
    return -1;
  }
  const char *address = p, *address_end = colon - 1;
  int bracketed = 0;
  if (address < address_end && *address == '[') {
    if (address_end[-1] != ']') {
      *error = "an IPv6 ADDRESS goes in brackets: [2001:db8::1]:5060";
      return -1;
    }
    ++address;
    --address_end;
    bracketed = 1;
  }
  const size_t address_len = (size_t)(address_end - address);
  if (address_len == 0 || address_len >= sizeof(out->address)) {
    *error = "ADDRESS must be an IP address";
    return -1;
  }
  if (memchr(address, '\0', address_len) != NULL) {
    *error = "ADDRESS must be an IP address"; /* Not "1.2.3.4\0junk". */
    return -1;
  }
  memcpy(out->address, address, address_len);
  out->address[address_len] = '\0';
  unsigned char binary[16];
  const int v4 = inet_pton(AF_INET, out->address, binary) == 1;
  const int v6 = !v4 && inet_pton(AF_INET6, out->address, binary) == 1;
  if ((!v4 && !v6) || (v6 && !bracketed) || (v4 && bracketed)) {
    *error = v6 ? "an IPv6 ADDRESS goes in brackets: [2001:db8::1]:5060"
                : "ADDRESS must be an IP address";
    return -1;
  }
  /* The canonical text, as decisions carry addresses: 2001:DB8:0::1 and
   * 2001:db8::1 are one server. */
  inet_ntop(v4 ? AF_INET : AF_INET6, binary, out->address,
            sizeof(out->address));
  p = colon;
  const long port = parse_number(&p, field_end, 5);
  if (port < 1 || port > 65535 || p != field_end) {
    *error = "PORT must be 1-65535";
    return -1;
  }
  while (p < end && is_blank(*p)) ++p;
  if (p == field_end || p == end) {
    *error = "expected ADDRESS:PORT CODE";
    return -1;
  }
  const long code = parse_number(&p, end, 3);
  if (code < 0 || p != end || (code != 0 && (code < 100 || code > 699))) {
    *error = "CODE must be 0 or 100-699";
    return -1;
  }
  out->port = (uint32_t)port;
  out->code = (uint32_t)code;
  return 0;
}

int device_report_registered(const struct device_report* r) {
  return r->code >= 200 && r->code < 300;
}

int device_report_next_line(const char** cursor, const char* end,
                            const char** line, size_t* len) {
  while (*cursor < end) {
    const char* start = *cursor;
    const char* newline = memchr(start, '\n', (size_t)(end - start));
    const char* stop = newline != NULL ? newline : end;
    *cursor = newline != NULL ? newline + 1 : end;
    const char* p = start;
    while (p < stop && (is_blank(*p) || *p == '\r')) ++p;
    if (p == stop) continue; /* Empty or blank. */
    *line = start;
    *len = (size_t)(stop - start);
    return 1;
  }
  return 0;
}
