// Mutation idempotency per (sessionId, requestId).
#include "realtime/mutation_log.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace polaris::realtime {
namespace {

using State = MutationLog::State;

TEST(MutationLog, FirstBeginClaimsTheRequest) {
  MutationLog log;
  auto c = log.Begin("s1", 0);
  EXPECT_EQ(c.state, State::kNew);
  EXPECT_TRUE(c.response.empty());
}

TEST(MutationLog, SecondBeginWhileRunningReportsRunning) {
  MutationLog log;
  ASSERT_EQ(log.Begin("s1", 0).state, State::kNew);
  auto c = log.Begin("s1", 0);
  EXPECT_EQ(c.state, State::kRunning);
  EXPECT_TRUE(c.response.empty());
}

TEST(MutationLog, AWaiterIsWokenOnceWhenTheFirstAttemptFinishesOrIsAbandoned) {
  MutationLog log;
  ASSERT_EQ(log.Begin("s1", 1).state, State::kNew);
  ASSERT_EQ(log.Begin("s1", 2).state, State::kNew);
  int woken1 = 0, woken2 = 0;
  EXPECT_TRUE(log.OnSettled("s1", 1, [&] { ++woken1; }));
  EXPECT_TRUE(log.OnSettled("s1", 1, [&] { ++woken1; }));
  EXPECT_TRUE(log.OnSettled("s1", 2, [&] { ++woken2; }));
  log.Finish("s1", 1, "answer");
  EXPECT_EQ(woken1, 2);
  EXPECT_EQ(woken2, 0);
  log.Finish("s1", 1, "answer");  // wakers are called once
  EXPECT_EQ(woken1, 2);
  log.Abandon("s1", 2);
  EXPECT_EQ(woken2, 1);
  EXPECT_EQ(log.Begin("s1", 1).state, State::kDone);
}

TEST(MutationLog, NoWaiterForARequestThatIsNotRunning) {
  MutationLog log;
  EXPECT_FALSE(log.OnSettled("s1", 1, [] {})) << "unknown session";
  ASSERT_EQ(log.Begin("s1", 1).state, State::kNew);
  log.Finish("s1", 1, "answer");
  EXPECT_FALSE(log.OnSettled("s1", 1, [] {})) << "already answered: Begin gives it at once";
  EXPECT_FALSE(log.OnSettled("s1", 7, [] {})) << "never begun";
}

TEST(MutationLog, DuplicateAfterFinishReturnsStoredResponse) {
  MutationLog log;
  ASSERT_EQ(log.Begin("s1", 5).state, State::kNew);
  log.Finish("s1", 5, "{\"type\":\"MutationResponse\",\"requestId\":5}");
  for (int i = 0; i < 3; ++i) {
    auto c = log.Begin("s1", 5);
    EXPECT_EQ(c.state, State::kDone);
    EXPECT_EQ(c.response, "{\"type\":\"MutationResponse\",\"requestId\":5}");
  }
}

TEST(MutationLog, AbandonLetsTheRequestRunAgain) {
  MutationLog log;
  ASSERT_EQ(log.Begin("s1", 1).state, State::kNew);
  log.Abandon("s1", 1);
  EXPECT_EQ(log.Begin("s1", 1).state, State::kNew);
  EXPECT_EQ(log.Begin("s1", 1).state, State::kRunning);
  log.Abandon("unknown-session", 1);  // harmless
  log.Abandon("s1", 99);              // harmless
  EXPECT_EQ(log.Begin("s1", 1).state, State::kRunning);
}

TEST(MutationLog, SessionsAndRequestIdsAreIndependent) {
  MutationLog log;
  ASSERT_EQ(log.Begin("a", 0).state, State::kNew);
  log.Finish("a", 0, "answer-a0");
  EXPECT_EQ(log.Begin("b", 0).state, State::kNew);
  EXPECT_EQ(log.Begin("a", 1).state, State::kNew);
  log.Finish("b", 0, "answer-b0");
  EXPECT_EQ(log.Begin("a", 0).response, "answer-a0");
  EXPECT_EQ(log.Begin("b", 0).response, "answer-b0");
  EXPECT_EQ(log.Begin("a", 1).state, State::kRunning);
}

TEST(MutationLog, BoundedPerSessionDropsTheOldest) {
  MutationLog log;
  constexpr int kMax = 1024;
  for (int i = 0; i <= kMax; ++i) {  // 1025 requests: 0 .. 1024
    ASSERT_EQ(log.Begin("s", i).state, State::kNew) << i;
    log.Finish("s", i, "r" + std::to_string(i));
  }
  // The newest 1024 are kept...
  for (int i : {1, 2, 512, kMax - 1, kMax}) {
    auto c = log.Begin("s", i);
    EXPECT_EQ(c.state, State::kDone) << i;
    EXPECT_EQ(c.response, "r" + std::to_string(i));
  }
  // ...and the oldest one is forgotten: it would run again.
  EXPECT_EQ(log.Begin("s", 0).state, State::kNew);
  // Another session is not affected by this one's bound.
  ASSERT_EQ(log.Begin("other", 0).state, State::kNew);
  log.Finish("other", 0, "x");
  EXPECT_EQ(log.Begin("other", 0).state, State::kDone);
}

TEST(MutationLog, ConcurrentBeginsClaimOnce) {
  MutationLog log;
  constexpr int kThreads = 4;
  constexpr int kRequests = 500;
  std::vector<int> claimed(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, &n = claimed[t]] {
      for (int r = 0; r < kRequests; ++r) {
        if (log.Begin("shared", r).state == State::kNew) ++n;
      }
    });
  }
  for (auto& th : threads) th.join();
  int total = 0;
  for (int n : claimed) total += n;
  EXPECT_EQ(total, kRequests);  // each request claimed by exactly one thread
}

}  // namespace
}  // namespace polaris::realtime

namespace polaris::realtime {
namespace {

TEST(MutationLogBudget, OldestSessionsAreEvictedBeyondTheByteBudget) {
  MutationLog log(64 << 10);  // 64 KiB
  const std::string answer(1000, 'x');
  for (int s = 0; s < 500; ++s) {
    const std::string id = "session-" + std::to_string(s);
    ASSERT_EQ(log.Begin(id, 0).state, MutationLog::State::kNew);
    log.Finish(id, 0, answer);
    EXPECT_LE(log.bytes(), std::size_t{64 << 10} + 2000) << "after session " << s;
  }
  EXPECT_LT(log.sessions(), 70u);
  // The newest session kept its answer; the oldest lost it.
  EXPECT_EQ(log.Begin("session-499", 0).state, MutationLog::State::kDone);
  EXPECT_EQ(log.Begin("session-0", 0).state, MutationLog::State::kNew);
}

TEST(MutationLogBudget, UsingASessionKeepsItFromEviction) {
  MutationLog log(16 << 10);
  ASSERT_EQ(log.Begin("kept", 0).state, MutationLog::State::kNew);
  log.Finish("kept", 0, "first");
  for (int s = 0; s < 200; ++s) {
    const std::string id = "other-" + std::to_string(s);
    log.Begin(id, 0);
    log.Finish(id, 0, std::string(200, 'y'));
    if (s % 10 == 0) {
      ASSERT_EQ(log.Begin("kept", 0).state, MutationLog::State::kDone);
    }
  }
}

}  // namespace
}  // namespace polaris::realtime
