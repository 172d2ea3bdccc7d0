// The protocol clock: strictly increasing per commit, never below an observed timestamp.
#include "realtime/commit_clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace polaris::realtime {
namespace {

TEST(CommitClock, AdvanceIsStrictlyIncreasing) {
  CommitClock clock;
  std::uint64_t prev = clock.Latest();
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t next = clock.Advance();
    ASSERT_GT(next, prev) << "at " << i;
    ASSERT_EQ(clock.Latest(), next);
    prev = next;
  }
}

TEST(CommitClock, StartsAtWallClockNanoseconds) {
  // Nanoseconds since the epoch: later than 2020-01-01 (1.577e18 ns).
  CommitClock clock;
  EXPECT_GT(clock.Latest(), 1'577'836'800'000'000'000ull);
}

TEST(CommitClock, AdvanceFromManyThreadsGivesUniqueIncreasingValues) {
  CommitClock clock;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::vector<std::uint64_t>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&clock, &out = seen[t]] {
      out.reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) out.push_back(clock.Advance());
    });
  }
  for (auto& th : threads) th.join();
  std::vector<std::uint64_t> all;
  for (const auto& v : seen) {
    // Each thread sees its own values strictly increasing.
    for (std::size_t i = 1; i < v.size(); ++i) ASSERT_GT(v[i], v[i - 1]);
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end())
      << "a value was handed out twice";
  EXPECT_EQ(clock.Latest(), all.back());
}

TEST(CommitClock, ObserveNeverLowers) {
  CommitClock clock;
  const std::uint64_t latest = clock.Advance();
  clock.Observe(0);
  EXPECT_EQ(clock.Latest(), latest);
  clock.Observe(latest - 1);
  EXPECT_EQ(clock.Latest(), latest);
  clock.Observe(latest);
  EXPECT_EQ(clock.Latest(), latest);
  EXPECT_GT(clock.Advance(), latest);
}

TEST(CommitClock, AdvanceAfterObservingTheFutureGoesPastIt) {
  CommitClock clock;
  // 30 s ahead of the wall clock: a client that saw a server with a faster clock.
  const std::uint64_t future = clock.Latest() + 30'000'000'000ull;
  clock.Observe(future);
  EXPECT_EQ(clock.Latest(), future);
  const std::uint64_t a = clock.Advance();
  EXPECT_GT(a, future);
  EXPECT_EQ(a, future + 1);  // the wall clock is far behind: one past the latest
  const std::uint64_t b = clock.Advance();
  EXPECT_EQ(b, a + 1);
  clock.Observe(future);  // older than latest now: no effect
  EXPECT_EQ(clock.Latest(), b);
}

TEST(CommitClock, ObserveClampsALyingClientToAMinuteAhead) {
  CommitClock clock;
  const std::uint64_t before = clock.Latest();
  clock.Observe(UINT64_MAX);  // "//////////8=": would freeze every later timestamp
  const std::uint64_t after = clock.Latest();
  EXPECT_GT(after, before);
  EXPECT_LE(after, before + 61'000'000'000ull);
  EXPECT_GT(clock.Advance(), after);
  EXPECT_LT(clock.Advance(), UINT64_MAX / 2);
}

TEST(CommitClock, ObserveAndAdvanceConcurrentlyNeverGoBackwards) {
  CommitClock clock;
  const std::uint64_t base = clock.Latest();
  std::thread observer([&clock, base] {
    for (std::uint64_t i = 1; i <= 20000; ++i) clock.Observe(base + i * 2'000'000ull);
  });
  std::uint64_t prev = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t v = clock.Advance();
    ASSERT_GT(v, prev);
    prev = v;
  }
  observer.join();
  EXPECT_GE(clock.Latest(), base + 20000ull * 2'000'000ull);
  EXPECT_GT(clock.Advance(), base + 20000ull * 2'000'000ull);
}

}  // namespace
}  // namespace polaris::realtime
