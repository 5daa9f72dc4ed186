// The contract between `sipresolver watch` and a device's hook: which
// decisions are applied, and the environment a hook gets. Versioned by
// SIPRESOLVER_HOOK_CONTRACT; documented in docs/agents.md ("Hook and file
// contract") and the proto's DecisionState.
#ifndef SIPRESOLVER_CLIENT_HOOK_CONTRACT_H_
#define SIPRESOLVER_CLIENT_HOOK_CONTRACT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/local_decisions.h"
#include "lib/nat/mapped_address.h"
#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::cli {

// 3: SIPRESOLVER_SOURCE, SIPRESOLVER_PROFILE_*, the device_control state;
// everything of version 2 unchanged.
inline constexpr int kHookContractVersion = 3;

// Whether a decision is handed to the hook and written to --output_file:
// ACTIVE ones, which always name a primary, and the agent's own
// DEVICE_CONTROL (the device resolves the profile's server by itself).
// SEARCHING and NO_WORKING_SERVER never are: applying "no server" would
// tear down a registration that may still work (the device keeps what it
// has; S7).
bool AppliesToDevice(const v1::Decision& decision);

// searching, active, no_working_server, device_control (SIPRESOLVER_STATE).
std::string StateName(v1::DecisionState state);

// How the service knows the primary works: probes, device_reports,
// unconfirmed; "" without a primary.
std::string AssuranceName(v1::Assurance assurance);

// The --output_file format (docs/decision-file.schema.json).
inline constexpr char kDecisionFileSchema[] = "sipresolver.decision-file/1";

// The decision file's content:
// {"schema":"...","source":"service"|"agent","decision":DECISION} and a
// newline; `decision_json` is the Decision as protobuf JSON (one object).
std::string DecisionFile(absl::string_view decision_json,
                         client::DecisionSource source);

// The hook's environment ("NAME=value"). For each of PRIMARY, SECONDARY and
// KEEPALIVE: NAME (HOST:PORT), NAME_ADDRESS (the IP, never bracketed),
// NAME_PORT, NAME_TRANSPORT (udp, tcp, tls) and NAME_TARGET (the DNS name the
// address came from, or the address); all empty when the decision has none.
// The candidates' transport is the profile's; the keep-alive target carries
// its own. SIPRESOLVER_SOURCE says who decided; SIPRESOLVER_PROFILE_SERVER,
// _PORT (empty when not configured) and _TRANSPORT name the server the
// profile configures for redundancy (S3), in every state.
std::vector<std::string> HookEnvironment(
    const v1::Decision& decision, client::DecisionSource source,
    const v1::ItspProfile& profile, const std::string& decision_file,
    const std::optional<nat::MappedAddress>& mapped);

}  // namespace sipresolver::cli

#endif  // SIPRESOLVER_CLIENT_HOOK_CONTRACT_H_
