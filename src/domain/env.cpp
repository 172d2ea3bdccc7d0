#include "domain/env.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>

namespace polaris {

std::optional<std::string> EnvString(const char* name) {
  const char* raw = std::getenv(name);
  if (!raw || !*raw) return std::nullopt;
  return std::string(raw);
}

Result<std::optional<long long>> EnvInteger(const char* name) {
  auto raw = EnvString(name);
  if (!raw) return std::optional<long long>{};
  long long v = 0;
  const char* end = raw->data() + raw->size();
  auto [ptr, ec] = std::from_chars(raw->data(), end, v);
  if (ec != std::errc() || ptr != end) {
    return Error::BadRequest(std::string(name) + " must be a whole number, got '" + *raw + "'");
  }
  return std::optional<long long>{v};
}

Result<long long> EnvIntegerIn(const char* name, long long fallback, long long min, long long max) {
  auto v = EnvInteger(name);
  if (!v) return v.error();
  if (!*v) return fallback;
  return std::clamp(**v, min, max);
}

}  // namespace polaris
