/* sipresolver-agent: the device-sized agent of sipresolver (see agent.h). */
#include <stdio.h>

#include "agent.h"
#include "flags.h"
#include "log.h"

int main(int argc, char** argv) {
  struct agent_flags flags;
  char error[512];
  if (flags_parse(argc, argv, &flags, error, sizeof error) != 0) {
    fprintf(stderr, AGENT_NAME ": %s\nTry --help.\n", error);
    return EXIT_USAGE;
  }
  if (flags.help) {
    fputs(flags_usage(), stdout);
    return EXIT_OK;
  }
  return agent_run(&flags);
}
