#pragma once
// Settings from the environment, read one way in every layer: an empty variable counts as
// unset, and a malformed number is an error that names the variable (never a silent 0).
#include <optional>
#include <string>

#include "domain/result.h"

namespace polaris {

// The variable's value; nullopt when it is unset or empty.
std::optional<std::string> EnvString(const char* name);
// A whole decimal number; nullopt when unset or empty; an error when it is anything else.
Result<std::optional<long long>> EnvInteger(const char* name);
// EnvInteger kept within [min, max] (documented ranges clamp); `fallback` when unset.
Result<long long> EnvIntegerIn(const char* name, long long fallback, long long min, long long max);

}  // namespace polaris
