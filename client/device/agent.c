#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_internal.h"
#include "clock.h"
#include "log.h"

static int g_signal_fd = -1;

static void on_signal(int number) {
  const int saved = errno;
  const char c = (char)number;
  ssize_t ignored = write(g_signal_fd, &c, 1);
  (void)ignored;
  errno = saved;
}

/* --- the loop --- */

static int64_t earliest(int64_t a, int64_t b) { return a < b ? a : b; }

static void step(struct agent* a) {
  struct pollfd fds[4];
  int n = 0, conn_i = -1, report_i = -1, resolve_i = -1;
  fds[n++] = (struct pollfd){a->signal_pipe[0], POLLIN, 0};
  if (a->conn) {
    conn_i = n;
    fds[n++] = (struct pollfd){h2_conn_fd(a->conn), h2_conn_events(a->conn), 0};
  }
  if (a->reports.fd >= 0) {
    report_i = n;
    fds[n++] = (struct pollfd){a->reports.fd, POLLIN, 0};
  }
  if (a->resolve.fd >= 0) {
    resolve_i = n;
    fds[n++] = (struct pollfd){a->resolve.fd, POLLIN, 0};
  }
  int64_t wake = INT64_MAX;
  if (a->retry_at >= 0 && a->resolve.fd < 0) wake = a->retry_at;
  if (a->conn) wake = earliest(wake, h2_conn_deadline(a->conn));
  if (a->watch)
    wake =
        earliest(wake, a->last_message + a->config.flags->stall_timeout_ms + 1);
  if (a->n_pending && a->with_service) wake = earliest(wake, a->next_report_at);
  wake = earliest(wake, hook_deadline(&a->hooks));
  wake = earliest(wake, agent_device_control_at(a));
  const int64_t now = clock_ms();
  int timeout = -1;
  if (wake != INT64_MAX)
    timeout =
        wake <= now ? 0 : (int)earliest(wake - now, (int64_t)24 * 3600 * 1000);
  if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
    log_line("poll: %s", strerror(errno));
    a->stop = 1;
    return;
  }
  a->now = clock_ms();

  if (fds[0].revents) {
    char signals[16];
    const ssize_t got = read(a->signal_pipe[0], signals, sizeof signals);
    for (ssize_t i = 0; i < got; ++i) {
      if (signals[i] == SIGCHLD)
        hook_reap(&a->hooks, a->now);
      else
        a->stop = 1;
    }
  }
  if (a->stop) return;
  if (resolve_i >= 0 && fds[resolve_i].revents) agent_on_resolved(a);
  if (a->conn)
    agent_on_connection(a, (short)(conn_i >= 0 ? fds[conn_i].revents : 0));
  if (report_i >= 0 && fds[report_i].revents)
    report_socket_read(&a->reports, agent_on_device_report, a);
  if (a->now >= agent_device_control_at(a)) agent_hand_back_control(a);
  if (a->now >= hook_deadline(&a->hooks)) hook_reap(&a->hooks, a->now);
  if (a->n_pending) agent_send_reports(a);
  if (a->retry_at >= 0 && a->now >= a->retry_at && a->resolve.fd < 0 &&
      !a->stop)
    agent_reopen(a);
}

static int install_signals(struct agent* a) {
  if (pipe2(a->signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  g_signal_fd = a->signal_pipe[1];
  struct sigaction action = {0};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGCHLD, &action, NULL);
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

int agent_run(const struct agent_flags* flags) {
  char error[512];
  if (flags->report) {
    if (report_socket_send(flags->report_socket, flags->report, error,
                           sizeof error) != 0) {
      fprintf(stderr, AGENT_NAME ": %s\n", error);
      return EXIT_RPC_ERROR;
    }
    return EXIT_OK;
  }
  struct agent* a = calloc(1, sizeof *a);
  if (!a) return EXIT_RPC_ERROR;
  a->reports.fd = -1;
  a->resolve.fd = -1;
  if (setup_config(flags, &a->config, error, sizeof error) != 0) {
    fprintf(stderr, AGENT_NAME ": %s\n", error);
    free(a);
    return EXIT_USAGE;
  }
  if (*flags->report_socket &&
      report_socket_open(&a->reports, flags->report_socket, error,
                         sizeof error) != 0) {
    fprintf(stderr, AGENT_NAME ": %s\n", error);
    setup_free(&a->config);
    free(a);
    return EXIT_RPC_ERROR; /* As watch: the flag is fine, the place is not. */
  }
  if (install_signals(a) != 0) {
    fprintf(stderr, AGENT_NAME ": %s\n", strerror(errno));
    return EXIT_RPC_ERROR;
  }
  srandom((unsigned)(clock_ms() ^ (getpid() << 16)));
  hook_init(&a->hooks, flags->hook, flags->hook_timeout_ms);
  a->keepalive_ms = flags->keepalive_time_ms;
  a->now = clock_ms();
  a->retry_at = a->now;
  while (!a->stop) step(a);

  resolve_cancel(&a->resolve);
  agent_close_connection(a);
  report_socket_close(&a->reports);
  hook_drain(&a->hooks); /* The last decision's hook runs to its end. */
  hook_free(&a->hooks);
  message_free(a->held);
  setup_free(&a->config);
  const int code = a->exit_code;
  close(a->signal_pipe[0]);
  close(a->signal_pipe[1]);
  free(a);
  return code;
}
