// KamailioServer: a real SIP registrar (Debian 12 kamailio 5.6.3,
// /usr/sbin/kamailio) on 127.0.0.1, UDP and TCP on one free port, and
// optionally TLS (kamailio-tls-modules) on a second one, for integration
// tests that probe registrars with REGISTER and OPTIONS.
//
// How it answers (pinned by kamailio_server_test.cc):
//  - Replies are stateless (sl). Every reply's top Via gets "received=" when
//    the request had ";rport" or a sent-by host other than the source IP,
//    and "rport=SOURCE_PORT" when the request asked for it; the reply goes
//    to the source IP and the rport (or, without rport, the sent-by port).
//  - kRegistrar: a REGISTER without (valid) credentials gets
//    "401 Unauthorized" with `WWW-Authenticate: Digest realm="REALM",
//    nonce="...", qop="auth"` (MD5; any user name, one password; the
//    Authorization user name must equal the To user, else 401). With the
//    right digest (with or without qop) the binding is saved in memory and
//    the reply is "200 OK" with all the AOR's bindings in one Contact header,
//    `<sip:...>;expires=N, <sip:...>;expires=M`: N is the Expires asked for,
//    raised to 60 (registrar min_expires), not capped; Expires: 0 removes
//    the binding (200, without it in Contact). A wrong password gets 401
//    with a new challenge (its nonce can equal the previous one: Kamailio's
//    nonces encode their time in seconds), or 403 with
//    WrongPassword::kReject.
//  - OPTIONS gets "200 OK" (except kAlwaysUnavailable / kSilent).
//  - Nonces are signed with a secret drawn at each start: after Restart() a
//    nonce from before is rejected (401 again). Bindings do not survive
//    Restart() either.
//
// Every request the script sees is logged to kamailio's stderr (a file)
// before it is answered, so CountRequests() is exact as soon as the reply
// has arrived; WaitForRequests() covers requests left unanswered (kSilent,
// Pause()). The fixture's own readiness probe is neither logged nor subject
// to the mode.
//
// Processes: kamailio forks ~6 children (UDP and TCP receivers, timers, TCP
// main) that share its process group, which the fixture runs as a
// GuardedProcessGroup: paused and stopped as a whole, and SIGKILLed by a
// guardian as soon as the test process dies. No `-u`/`-g`, no pid file,
// nothing under /run: the Debian package's own service (kamailio.service,
// port 5060, /run/kamailio) is neither needed nor disturbed.
//
// Thread-compatible. Create the server on the test's own thread (the main
// process also has PR_SET_PDEATHSIG tied to the creating thread).
#ifndef SIPRESOLVER_TESTS_SUPPORT_KAMAILIO_SERVER_H_
#define SIPRESOLVER_TESTS_SUPPORT_KAMAILIO_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/support/guarded_process_group.h"
#include "tests/support/log_file.h"
#include "tests/support/temp_dir.h"

namespace sipresolver::testing {

struct KamailioConfig {
  // What the registrar does with each request. Requests other than REGISTER
  // and OPTIONS get 501 (none at all in kSilent); ACKs are never answered.
  enum Mode {
    // REGISTER needs digest credentials (any user, `password`); OPTIONS 200.
    kRegistrar,
    // REGISTER is saved without authentication: 200 OK. OPTIONS 200.
    kNoAuth,
    // REGISTER gets "403 Forbidden" without a challenge (an account the
    // registrar refuses); OPTIONS 200: the server is up, registering fails.
    kForbidden,
    // Every request gets "503 Service Unavailable" (with Retry-After if
    // `retry_after_seconds` is set): overloaded or in maintenance.
    kAlwaysUnavailable,
    // Every request is received and logged but never answered: the process
    // is up (TCP connects) yet the server is silent. Cheaper than Pause()
    // for "no answer" and keeps TCP accepting.
    kSilent,
  };
  // How kRegistrar answers credentials with the wrong password.
  enum WrongPassword {
    kChallengeAgain,  // 401 with a new challenge (Kamailio's usual script).
    kReject,          // 403 Forbidden (as some ITSPs do).
  };

  Mode mode = kRegistrar;
  // The one password for every user name. Must be non-empty, printable, and
  // free of '"', '\\' and '$' (it is pasted into kamailio.cfg).
  std::string password = "secret";
  // The digest realm, independent of the request's domains. Same rules.
  std::string realm = "sipresolver.test";
  WrongPassword wrong_password = kChallengeAgain;
  // When non-empty, every request whose User-Agent contains this text
  // (case-insensitively) is logged and then dropped without any reply, as
  // an ITSP's fail2ban, pike or APIBAN does once it has banned a prober;
  // requests with another User-Agent, or none, are served as `mode` says.
  // Pasted into kamailio.cfg as a regular expression: printable ASCII
  // without '"', '\\', '$', '^' or ']'.
  std::string drop_user_agent;
  // The shortest registration it grants (Kamailio's registrar min_expires);
  // a phone asking for less is given this much.
  int min_expires = 60;
  // kAlwaysUnavailable: adds "Retry-After: N" to the 503.
  std::optional<int> retry_after_seconds = std::nullopt;

  // Also serve SIP over TLS on tls_port() (the tls module; TLS 1.2+, no
  // client certificate asked for). The certificate (EC P-256, made with the
  // openssl CLI in the temporary directory) names `tls_server_name` in its
  // CN and its only DNS SAN, and is signed by the server's test CA, whose
  // certificate is ca_file() - or, with `tls_self_signed`, signs itself and
  // ca_file() is that certificate. The CA lives as long as the server; the
  // certificate is made again only when these settings change (Restart).
  // Each request over TLS also logs "TLS SNI NAME" ("<null>" without SNI).
  bool tls = false;
  std::string tls_server_name = "sipresolver.test";  // A DNS name.
  bool tls_self_signed = false;
};

// One request as the registrar's script saw it (see Requests()).
struct SipRequestRecord {
  std::string method;      // "REGISTER"
  std::string transport;   // "udp", "tcp" or "tls"
  std::string source;      // "127.0.0.1:PORT"
  std::string from_user;   // "alice" ("<null>" when the From URI has none)
  std::string user_agent;  // "Device/1.0" ("<null>" without the header)
};

class KamailioServer {
 public:
  // Starts kamailio on a free port of 127.0.0.1 (UDP and TCP) and waits, at
  // most 10 s, until it answers a SIP OPTIONS over UDP (~10 ms here). The
  // error includes kamailio's stderr. INVALID_ARGUMENT for a bad config.
  static absl::StatusOr<std::unique_ptr<KamailioServer>> Start(
      const KamailioConfig& config = {});

  // Stops kamailio (see Stop) and removes the temporary directory.
  ~KamailioServer();
  KamailioServer(const KamailioServer&) = delete;
  KamailioServer& operator=(const KamailioServer&) = delete;

  // "127.0.0.1:PORT"; the same port serves UDP and TCP.
  std::string address() const;
  uint16_t port() const { return port_; }
  // With KamailioConfig::tls: the TLS port of 127.0.0.1 (kept by Restart),
  // and the PEM file a client trusts to verify the server (see `tls`).
  // 0 and "" until TLS has been asked for.
  uint16_t tls_port() const { return tls_port_; }
  const std::string& ca_file() const { return ca_file_; }

  // Stops kamailio and starts it again on the same port with `config`
  // (retrying for up to 2 s while the port is still held). The request log
  // (and so CountRequests) carries over; registrations and nonces do not.
  absl::Status Restart(const KamailioConfig& config);

  // SIGKILL to kamailio's children (resuming the group if paused), which
  // makes the main process reap them and exit (see the .cc for why not
  // SIGTERM); SIGKILL to the whole group after 250 ms. Reaps the main process;
  // leaves no process of the group behind. Idempotent.
  void Stop();
  bool running() const { return group_.running(); }

  // SIGSTOP / SIGCONT to the whole process group. Pause() returns once every
  // process of the group is stopped (bounded: 2 s), so a request sent after
  // it is not answered; UDP requests queue in the socket and are answered
  // (late) after Resume().
  void Pause();
  void Resume();
  bool paused() const { return group_.paused(); }

  // The processes of kamailio's group right now (main process first), e.g.
  // to check that none is left after Stop().
  std::vector<pid_t> ProcessIds() const;

  // Requests received since start or ResetRequestCounts(), in arrival order
  // (the readiness probe is not included).
  std::vector<SipRequestRecord> Requests() const;
  // Requests of `method` ("REGISTER", "OPTIONS"; case-sensitive as in SIP).
  int CountRequests(absl::string_view method) const;
  // Waits until CountRequests(method) >= n, at most `timeout`.
  bool WaitForRequests(absl::string_view method, int n,
                       absl::Duration timeout = absl::Seconds(5)) const;
  // Later Requests/CountRequests calls ignore requests logged so far.
  void ResetRequestCounts();

  // The location table as `kamcmd ul.dump` prints it (every AOR and its
  // contacts, "Address: sip:..."): where devices are registered right now.
  absl::StatusOr<std::string> Locations() const;

  // For diagnostics: kamailio's stderr (all starts) and the current config.
  std::string ReadLog() const;
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_.path(); }

 private:
  explicit KamailioServer(TempDir dir);
  absl::Status WriteConfig(const KamailioConfig& config);
  // The CA (once) and the server certificate for `config` (when it changed).
  absl::Status MakeTlsCertificate(const KamailioConfig& config);
  absl::Status Launch();  // Spawns kamailio and waits until it answers.

  TempDir dir_;
  std::string config_path_;
  LogFile log_;  // kamailio's stderr, all starts.
  uint16_t port_ = 0;
  uint16_t tls_port_ = 0;
  std::string ca_file_;
  std::string tls_certificate_for_;  // Settings the certificate was made for.
  GuardedProcessGroup group_;
};

}  // namespace sipresolver::testing

#endif  // SIPRESOLVER_TESTS_SUPPORT_KAMAILIO_SERVER_H_
