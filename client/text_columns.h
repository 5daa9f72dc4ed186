// Plain-text tables of the `sipresolver` commands' output.
#ifndef SIPRESOLVER_CLIENT_TEXT_COLUMNS_H_
#define SIPRESOLVER_CLIENT_TEXT_COLUMNS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace sipresolver::cli {

// Lays rows out in columns two spaces apart. The last column is never padded
// and trailing blanks (empty last cells) are trimmed, so lines end cleanly.
// `right_align[i]` right-aligns column i (numbers); each line starts with
// `indent` and ends in "\n".
std::string FormatColumns(const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right_align,
                          absl::string_view indent);

}  // namespace sipresolver::cli

#endif  // SIPRESOLVER_CLIENT_TEXT_COLUMNS_H_
