#pragma once
// Per-user token buckets: `per_minute` requests in a burst, refilled evenly over a minute.
// Thread-safe. Memory is one small entry per user seen recently (full buckets are swept).
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/result.h"

namespace polaris {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // Takes one token for user. Returns 0 when allowed, else the whole seconds until a token
  // is back (for Retry-After, at least 1).
  int TryTake(const std::string& user, int per_minute, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  void Sweep(Clock::time_point now, int per_minute);
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  Clock::time_point last_sweep_{};
};

// Takes one of the user's tokens, or refuses with 429 naming `limit`: "Too many <things>: at
// most <per_minute> per minute", Retry-After when the next token is back.
Status TakeOrRefuse(RateLimiter& limiter, const std::string& user, int per_minute,
                    std::string_view things, std::string limit);

}  // namespace polaris
