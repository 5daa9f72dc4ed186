#include "hook.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "clock.h"
#include "log.h"

extern char** environ;

void hook_init(struct hook_runner* h, const char* command, int64_t timeout_ms) {
  memset(h, 0, sizeof *h);
  h->command = command;
  h->timeout_ms = timeout_ms;
}

/* Whether `entry` ("NAME=value") names one of the `n` entries in `set`. */
static int overridden(const char* entry, const char* set, int n) {
  const size_t name_len = strcspn(entry, "=");
  for (int i = 0; i < n; ++i, set += strlen(set) + 1) {
    if (strncmp(set, entry, name_len) == 0 && set[name_len] == '=') return 1;
  }
  return 0;
}

static void start(struct hook_runner* h, const char* entries, int n,
                  int64_t now) {
  size_t inherited = 0;
  for (char** e = environ; *e; ++e) ++inherited;
  char** envp = calloc(inherited + (size_t)n + 1, sizeof *envp);
  if (!envp) {
    ++h->failures;
    log_line("hook could not be started: out of memory");
    return;
  }
  size_t k = 0;
  for (char** e = environ; *e; ++e)
    if (!overridden(*e, entries, n)) envp[k++] = *e;
  const char* entry = entries;
  for (int i = 0; i < n; ++i, entry += strlen(entry) + 1)
    envp[k++] = (char*)entry;

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  const int reset[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD};
  for (size_t i = 0; i < sizeof reset / sizeof reset[0]; ++i)
    sigaddset(&defaults, reset[i]);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0); /* A group of its own: pgid = pid. */
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, 2,
                                   1); /* stdout: decisions only. */
  char* argv[] = {"sh", "-c", (char*)h->command, NULL};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  free(envp);
  ++h->runs;
  if (rc != 0) {
    ++h->failures;
    log_line("hook could not be started: %s", strerror(rc));
    return;
  }
  h->pid = pid;
  h->started_ms = now;
}

void hook_submit(struct hook_runner* h, const struct buf* entries, int n,
                 int64_t now) {
  if (!h->pid) return start(h, entries->data, n, now);
  if (h->slot_full) {
    ++h->superseded;
    log_line("a newer decision replaced one whose hook had not run yet");
  }
  buf_clear(&h->slot);
  buf_append(&h->slot, entries->data, entries->len);
  h->slot_entries = n;
  h->slot_full = !h->slot.failed;
}

/* The hook ended with `status`: log what was wrong. */
static void ended(struct hook_runner* h, int status) {
  h->pid = 0;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  ++h->failures;
  if (WIFEXITED(status))
    log_line("hook exited with status %d", WEXITSTATUS(status));
  else
    log_line("hook was ended by signal %d", WTERMSIG(status));
}

void hook_reap(struct hook_runner* h, int64_t now) {
  if (h->pid) {
    int status = 0;
    const pid_t r = waitpid(h->pid, &status, WNOHANG);
    if (r == h->pid) {
      ended(h, status);
    } else if (r < 0 && errno == ECHILD) {
      h->pid = 0; /* Not ours any more. */
    } else if (now >= h->started_ms + h->timeout_ms) {
      kill(-h->pid, SIGKILL); /* The whole group: the shell and its children. */
      while (waitpid(h->pid, &status, 0) < 0 && errno == EINTR) {
      }
      h->pid = 0;
      ++h->timeouts;
      log_line(
          "hook ran longer than %lldms and was killed with its process "
          "group",
          (long long)h->timeout_ms);
    }
  }
  if (!h->pid && h->slot_full) {
    h->slot_full = 0;
    start(h, h->slot.data, h->slot_entries, now);
  }
}

int64_t hook_deadline(const struct hook_runner* h) {
  return h->pid ? h->started_ms + h->timeout_ms : INT64_MAX;
}

void hook_drain(struct hook_runner* h) {
  const struct timespec pause = {0, 20L * 1000 * 1000};
  while (h->pid || h->slot_full) {
    hook_reap(h, clock_ms());
    if (h->pid) nanosleep(&pause, NULL);
  }
}

void hook_free(struct hook_runner* h) { buf_free(&h->slot); }
