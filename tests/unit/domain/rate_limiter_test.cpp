// Per-user token buckets for the per-minute limits.
#include "domain/rate_limiter.h"

#include <gtest/gtest.h>

namespace polaris {
namespace {
using namespace std::chrono_literals;

TEST(RateLimiter, ABurstOfThePerMinuteNumberThenRetryAfter) {
  RateLimiter r;
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.TryTake("alice", 3, t0), 0) << i;
  const int wait = r.TryTake("alice", 3, t0);
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 20);  // one token comes back every 20 s at 3 per minute
  EXPECT_EQ(r.TryTake("bob", 3, t0), 0) << "users have their own buckets";
}

TEST(RateLimiter, TokensComeBackOverTime) {
  RateLimiter r;
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 60; ++i) ASSERT_EQ(r.TryTake("u", 60, t0), 0);
  EXPECT_GT(r.TryTake("u", 60, t0), 0);
  EXPECT_EQ(r.TryTake("u", 60, t0 + 1100ms), 0);  // one per second
  EXPECT_GT(r.TryTake("u", 60, t0 + 1200ms), 0);
  EXPECT_EQ(r.TryTake("u", 60, t0 + 2min), 0);
}

}  // namespace
}  // namespace polaris
