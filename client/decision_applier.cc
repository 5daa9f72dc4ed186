#include "client/decision_applier.h"

#include <stdio.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/command_line.h"
#include "client/decision_line.h"
#include "client/hook_contract.h"

namespace sipresolver::cli {

bool WantsStun(const v1::ItspProfile& profile) {
  return profile.keep_alive_enable() &&
         (profile.keep_alive_msg_type() == v1::KEEP_ALIVE_MSG_TYPE_STUN ||
          profile.keep_alive_msg_type() == v1::KEEP_ALIVE_MSG_TYPE_UNSPECIFIED);
}

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& text) {
  const std::string temp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out)
      return absl::UnavailableError(absl::StrCat("cannot write ", temp));
  }
  if (rename(temp.c_str(), path.c_str()) != 0) {
    unlink(temp.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot rename ", temp, " to ", path));
  }
  return absl::OkStatus();
}

DecisionApplier::DecisionApplier(DecisionApplierOptions options)
    : options_(std::move(options)),
      out_(options_.out != nullptr ? *options_.out : std::cout) {}

DecisionApplier::~DecisionApplier() = default;

absl::StatusOr<std::unique_ptr<DecisionApplier>> DecisionApplier::Create(
    DecisionApplierOptions options) {
  // Not make_unique: the constructor is private.
  std::unique_ptr<DecisionApplier> applier(
      new DecisionApplier(std::move(options)));
  DecisionApplier& a = *applier;
  const DecisionApplierOptions& o = a.options_;
  if (WantsStun(o.profile) || !o.register_response_file.empty()) {
    client::NatOptions nat = o.nat;
    nat.on_mapping = [&a](const nat::MappedAddress& m, bool changed) {
      a.PrintMapping(m);
      if (a.options_.nat.on_mapping) a.options_.nat.on_mapping(m, changed);
    };
    absl::StatusOr<std::unique_ptr<client::NatKeeper>> keeper =
        client::NatKeeper::Create(std::move(nat));
    if (!keeper.ok()) return keeper.status();
    a.nat_ = *std::move(keeper);
    if (!o.register_response_file.empty()) {
      absl::StatusOr<std::string> text =
          ReadWholeFile(o.register_response_file, "--register_response_file");
      absl::Status s =
          text.ok() ? a.nat_->ObserveRegisterResponse(*text) : text.status();
      if (!s.ok()) a.Log(std::string(s.message()));
    }
  }
  if (!o.hook.empty()) {
    a.hooks_ = std::make_unique<client::HookRunner>(client::HookRunner::Options{
        o.hook, o.hook_timeout, STDERR_FILENO,
        [&a](const std::string& message) { a.Log(message); }});
  }
  return applier;
}

void DecisionApplier::Apply(const v1::Decision& d,
                            client::DecisionSource source) {
  absl::StatusOr<std::string> json = FormatJson(d);
  Print(options_.json && json.ok() ? *json : FormatDecisionLine(d));
  // Only what a device applies goes on: never "no server" (S7 keeps what
  // works; SEARCHING has nothing yet).
  if (!AppliesToDevice(d)) return;
  if (!options_.output_file.empty() && json.ok()) {
    if (absl::Status s = WriteFileAtomically(options_.output_file,
                                             DecisionFile(*json, source));
        !s.ok()) {
      Log(std::string(s.message()));
    }
  }
  // In device control the device picks its own server: STUN keeps going
  // to the last target rather than stopping.
  if (nat_ && WantsStun(options_.profile) &&
      d.state() == v1::DECISION_STATE_ACTIVE) {
    nat_->SetTarget(d.keep_alive_target().address(),
                    d.keep_alive_target().port());
  }
  if (hooks_) {
    hooks_->Submit(HookEnvironment(d, source, options_.profile,
                                   options_.output_file,
                                   nat_ ? nat_->current() : std::nullopt));
  }
}

void DecisionApplier::Print(const std::string& text) {
  absl::MutexLock lock(&out_mu_);
  out_ << text << std::flush;
}

void DecisionApplier::PrintMapping(const nat::MappedAddress& m) {
  if (options_.json) {
    Print(absl::StrCat("{\"mapped_address\":\"", nat::HostPort(m),
                       "\",\"method\":\"", nat::MethodName(m.method), "\"}\n"));
  } else {
    Print(absl::StrCat("mapped ", nat::HostPort(m), " (learned by ",
                       nat::MethodName(m.method), ")\n"));
  }
}

void DecisionApplier::Log(const std::string& message) const {
  if (options_.log) options_.log(message);
}

}  // namespace sipresolver::cli
