#include "domain/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "domain/limits.h"

namespace polaris {
namespace {
constexpr auto kSweepInterval = std::chrono::minutes(1);

double Refilled(double tokens, double elapsed_s, int per_minute) {
  return std::min<double>(per_minute, tokens + elapsed_s * per_minute / 60.0);
}
}  // namespace

int RateLimiter::TryTake(const std::string& user, int per_minute, Clock::time_point now) {
  std::lock_guard lock(mu_);
  Sweep(now, per_minute);
  auto [it, fresh] = buckets_.try_emplace(user);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = per_minute;
  } else {
    const double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = Refilled(b.tokens, std::max(0.0, elapsed), per_minute);
  }
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  const double wait = (1.0 - b.tokens) * 60.0 / per_minute;
  return std::max(1, static_cast<int>(std::ceil(wait)));
}

// Buckets that have refilled completely carry no information: drop them.
void RateLimiter::Sweep(Clock::time_point now, int per_minute) {
  if (now - last_sweep_ < kSweepInterval) return;
  last_sweep_ = now;
  std::erase_if(buckets_, [&](const auto& entry) {
    const double elapsed = std::chrono::duration<double>(now - entry.second.updated).count();
    return Refilled(entry.second.tokens, elapsed, per_minute) >= per_minute;
  });
}

Status TakeOrRefuse(RateLimiter& limiter, const std::string& user, int per_minute,
                    std::string_view things, std::string limit) {
  const int wait = limiter.TryTake(user, per_minute);
  if (wait == 0) return Ok();
  return LimitError(
      ErrorCode::kRateLimited,
      "Too many " + std::string(things) + ": at most " + std::to_string(per_minute) + " per minute",
      std::move(limit), wait);
}

}  // namespace polaris
