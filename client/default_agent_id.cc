#include "client/default_agent_id.h"

#include <openssl/sha.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/agent_id.h"

namespace sipresolver::client {

absl::StatusOr<std::string> DefaultAgentId(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  const size_t len = agent_id_machine_id(content.data(), content.size());
  if (!in || len == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--agent_id is required: there is no ", path, " to derive one from"));
  }
  const std::string salted =
      absl::StrCat(AGENT_ID_SALT, content.substr(0, len));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(salted.data()), salted.size(),
         digest);
  char id[AGENT_ID_SIZE];
  agent_id_format(digest, id);
  return std::string(id);
}

}  // namespace sipresolver::client
