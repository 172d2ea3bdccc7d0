#pragma once
// Project-relative file paths: validation and splitting, shared by REST and the agent's tools.
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace polaris {

constexpr std::size_t kMaxPathBytes = 4096;
constexpr std::size_t kMaxNameBytes = 255;
// Deeper trees would exceed SQLite's cascade depth on recursive delete.
constexpr std::size_t kMaxPathDepth = 256;

// Splits "a/b/c.txt" into its segments. Rejects empty paths, absolute paths, empty, "." and
// ".." segments, NUL and control characters, invalid UTF-8 and oversize names.
Result<std::vector<std::string>> SplitPath(std::string_view path);
// Checks one name (a single segment), as used by rename.
Status ValidateName(std::string_view name);
// ValidateName, then the name in Unicode NFC: the form every stored name has, so that two
// spellings of one name collide as siblings.
Result<std::string> NormalizeName(std::string_view name);

}  // namespace polaris
