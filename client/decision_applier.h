// DecisionApplier: what `sipresolver watch` does with each decision the
// agent hands on. It
// - prints it on stdout (a line of text, or with --json one JSON object),
// and, only for a decision the device applies (hook_contract.h:
// AppliesToDevice; never "no server", S7),
// - writes the decision file (--output_file) atomically,
// - aims the STUN keep-alives at its keep-alive target (N2), and
// - hands it to the hook (--hook, killed after --hook_timeout), which runs
//   off the caller's thread.
// It also keeps the device's mapped address (NatKeeper, N1-N3) when the
// profile asks for STUN keep-alives or a REGISTER response is given, and
// prints each mapping it learns on the same stream as the decisions.
//
// Thread-safe: Apply runs on the agent's threads, mappings arrive on the
// NatKeeper's. The destructor waits for the hook of the last decision (see
// hook_runner.h), so destroy the applier after the agent that feeds it.
#ifndef SIPRESOLVER_CLIENT_DECISION_APPLIER_H_
#define SIPRESOLVER_CLIENT_DECISION_APPLIER_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/hook_runner.h"
#include "client/local_decisions.h"
#include "client/nat_keeper.h"
#include "lib/nat/mapped_address.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::cli {

struct DecisionApplierOptions {
  v1::ItspProfile profile;  // The watched profile: STUN, the hook's variables.
  bool json = false;        // Print one JSON object per line instead of text.
  std::string output_file;  // The decision file; empty: none.
  std::string hook;         // Run by /bin/sh -c; empty: none.
  absl::Duration hook_timeout = absl::Seconds(30);
  // NAT (N1-N3). `nat.on_mapping`, when set, is called after the mapping is
  // printed (`sipresolver watch` reports it to the service).
  client::NatOptions nat;
  std::string register_response_file;  // N1: a REGISTER response to read.
  std::ostream* out = nullptr;         // Decisions and mappings; null: stdout.
  // Problems that do not stop the command (a file not written, a hook that
  // failed), one line each without the newline; null: none.
  std::function<void(const std::string& message)> log;
};

class DecisionApplier {
 public:
  // Fails when the NatKeeper cannot start (e.g. --sip_port cannot be bound).
  static absl::StatusOr<std::unique_ptr<DecisionApplier>> Create(
      DecisionApplierOptions options);
  ~DecisionApplier();
  DecisionApplier(const DecisionApplier&) = delete;
  DecisionApplier& operator=(const DecisionApplier&) = delete;

  // Prints `decision` and, when the device applies it, writes the file,
  // aims STUN and submits the hook (which may still run on return).
  void Apply(const v1::Decision& decision, client::DecisionSource source);

 private:
  explicit DecisionApplier(DecisionApplierOptions options);
  void Print(const std::string& text);
  void PrintMapping(const nat::MappedAddress& mapped);
  void Log(const std::string& message) const;

  const DecisionApplierOptions options_;
  std::ostream& out_;
  absl::Mutex out_mu_;  // Decisions and mappings print from two threads.
  // Declared in this order so that the hook of the last decision has run
  // before STUN stops.
  std::unique_ptr<client::NatKeeper> nat_;     // Null without NAT.
  std::unique_ptr<client::HookRunner> hooks_;  // Null without a hook.
};

// Whether the profile asks for STUN keep-alives (N2).
bool WantsStun(const v1::ItspProfile& profile);

// Writes `text` to `path` through a temporary file and rename, so readers
// never see half a decision.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& text);

}  // namespace sipresolver::cli

#endif  // SIPRESOLVER_CLIENT_DECISION_APPLIER_H_
