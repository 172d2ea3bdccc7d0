#pragma once
// The HS256 signing secret shared by `polaris serve` (verifies) and `polaris token` (issues).
#include <string>

#include "domain/result.h"

namespace polaris {

// POLARIS_JWT_SECRET (if set and non-empty) wins. Otherwise the secret is the content of
// <data_dir>/jwt_secret, created on first use as 64 hex chars from the CSPRNG (file 0600, new
// directories 0700). Concurrent first calls from several processes all return the same secret.
// A trailing newline in the file is ignored so a hand-written secret works as expected.
Result<std::string> ResolveHsSecret(const std::string& data_dir);

}  // namespace polaris
