// A decision as `sipresolver watch` prints it (and sipresolver-agent, whose
// client/device/output.c must print the same line: agent_parity_test).
#ifndef SIPRESOLVER_CLIENT_DECISION_LINE_H_
#define SIPRESOLVER_CLIENT_DECISION_LINE_H_

#include <string>

#include "sipresolver/v1/sipresolver.pb.h"

namespace sipresolver::cli {

// "v17 active: primary 192.0.2.1:5060 (pbx1.test), secondary ..., keep-alive
// ... - reason", or "v17 device control - reason", one line.
std::string FormatDecisionLine(const v1::Decision& decision);

}  // namespace sipresolver::cli

#endif  // SIPRESOLVER_CLIENT_DECISION_LINE_H_
