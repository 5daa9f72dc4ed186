/* hook: runs the device's hook command for each decision it applies, as
 * `sipresolver watch` does (docs/agents.md "Hook and file contract"), without a
 * thread of its own:
 *  - one hook at a time; a decision that comes while one runs waits in a
 *    single slot where a newer one replaces it (the next run gets the
 *    newest decision, never each stale one in turn);
 *  - started with posix_spawn as `/bin/sh -c COMMAND` in a process group of
 *    its own, with default signal handling, the agent's environment plus
 *    the decision's variables, its stdout and stderr on the agent's stderr
 *    (stdout carries decisions only);
 *  - killed with its whole process group after the timeout;
 *  - failures, timeouts and replaced decisions are logged.
 * The agent calls hook_reap when SIGCHLD arrives or at hook_deadline(). */
#ifndef SIPRESOLVER_AGENT_HOOK_H_
#define SIPRESOLVER_AGENT_HOOK_H_

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

struct hook_runner {
  const char* command;
  int64_t timeout_ms;
  pid_t pid; /* The running hook (its group), 0 when none. */
  int64_t started_ms;
  struct buf slot; /* The waiting decision's "NAME=value\0" entries. */
  int slot_entries;
  int slot_full;
  int runs, failures, timeouts, superseded;
};

void hook_init(struct hook_runner* h, const char* command, int64_t timeout_ms);
/* Runs the hook with `entries` ("NAME=value\0" x n), now or when the
 * running one is done. */
void hook_submit(struct hook_runner* h, const struct buf* entries, int n,
                 int64_t now_ms);
/* Collects a hook that ended or ran out of time, then starts the waiting
 * one. */
void hook_reap(struct hook_runner* h, int64_t now_ms);
/* The running hook's timeout, INT64_MAX when none runs. */
int64_t hook_deadline(const struct hook_runner* h);
/* At exit: lets the running and the waiting hook run to their end (each
 * bounded by the timeout). */
void hook_drain(struct hook_runner* h);
void hook_free(struct hook_runner* h);

#endif /* SIPRESOLVER_AGENT_HOOK_H_ */
