#include "agent_id.h"

#include <stdio.h>

size_t agent_id_machine_id(const char* text, size_t len) {
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
                     text[len - 1] == ' ' || text[len - 1] == '\t'))
    --len;
  return len >= 16 ? len : 0;
}

void agent_id_format(const unsigned char digest[32], char out[AGENT_ID_SIZE]) {
  out[0] = 'm';
  out[1] = '-';
  for (size_t i = 0; i < 12; ++i)
    snprintf(out + 2 + 2 * i, 3, "%02x", digest[i]);
}
