// RunManager: a run always finishes in its eyes (its slot and shutdown are never lost to a
// failing store), recovery after a crash, and the heartbeat that stops a run taken elsewhere.
#include "runs/run_manager.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "../agent/agent_fixture.h"
#include "domain/clock.h"
#include "domain/run_lease.h"
#include "faulty_store.h"

namespace polaris::runs_test {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using agent_test::AgentFixture;
using providers_test::ScriptedStep;

class RunManagerTest : public AgentFixture {
 protected:
  void SetUp() override {
    AgentFixture::SetUp();
    faulty_ = std::make_unique<FaultyStore>(*store_);
    faulty_db_ = std::make_unique<StoreClient>(*faulty_);
    run_db_ = faulty_db_.get();
  }
  void TearDown() override {
    faulty_->Heal();
    if (runs_) {
      runs_->Shutdown();
      EXPECT_TRUE(RunUntil([&] { return runs_->Idle(); })) << "shutdown did not end";
      Spin(50ms);  // the loops see the shutdown and let go of the manager
    }
    runs_.reset();
    AgentFixture::TearDown();
  }
  runs::RunManager& Runs(runs::RunManagerConfig config) {
    runs_ = std::make_unique<runs::RunManager>(ioc_.get_executor(), Deps(), config);
    return *runs_;
  }
  // A 300 ms lease (a heartbeat every 100 ms) for one test; the setting is process-wide.
  struct ShortLease {
    RunLeaseConfig saved = CurrentRunLease();
    ShortLease() { SetRunLease({saved.owner, 300}); }
    ~ShortLease() { SetRunLease(saved); }
  };
  MessageStatus StatusOf(const std::string& message_id) {
    return MessageOf(message_id).status.value_or(MessageStatus::kProcessing);
  }
  bool Completed(const std::string& message_id) {
    return StatusOf(message_id) == MessageStatus::kCompleted;
  }

  std::unique_ptr<FaultyStore> faulty_;
  std::unique_ptr<StoreClient> faulty_db_;
  std::unique_ptr<runs::RunManager> runs_;
};

// Regression: a crashed run whose clean-up write failed left its coroutine by an exception;
// Finished() never ran, so its --max-runs slot was lost for good.
TEST_F(RunManagerTest, ACrashWhoseCleanUpWriteFailsStillFreesItsSlot) {
  config_.flush_interval = 100ms;
  auto& runs = Runs({.max_runs = 1});
  auto a = Post("crash");
  auto b = Post("then me");
  ScriptedStep crash;
  crash.chunks = {"about to "};
  crash.mid_stream = [this]() -> asio::awaitable<void> {
    faulty_->FailWrites(1);  // the write that would fail the crashed message
    throw std::runtime_error("a bug in the step");
    co_return;
  };
  streamer_.Add(std::move(crash));
  streamer_.AddText({"second answer"});
  runs.Enqueue(a.run_id);
  runs.Enqueue(b.run_id);
  ASSERT_TRUE(RunUntil([&] { return Completed(b.message_id); }))
      << "the second run never started: the crashed run kept the only slot";
  EXPECT_EQ(faulty_->failed(), 1);
  EXPECT_TRUE(RunUntil([&] { return runs.Idle(); }));
  // The crashed run is left for recovery: its lease expires and a sweep resumes it.
  EXPECT_EQ(StatusOf(a.message_id), MessageStatus::kProcessing);
  EXPECT_EQ(RunOf(a.run_id).status, RunStatus::kExecuting);
}

// Regression: at shutdown, a run handed back to the queue by a write that failed never
// reported itself finished, and shutdown waited its whole timeout.
TEST_F(RunManagerTest, AShutdownWhoseHandBackFailsStillEnds) {
  auto& runs = Runs({});
  auto a = Post("a long answer");
  ScriptedStep s;
  s.chunks = {"one ", "two"};
  s.mid_stream = [this]() -> asio::awaitable<void> {
    faulty_->FailWrites();
    runs_->Shutdown();
    co_return;
  };
  streamer_.Add(std::move(s));
  runs.Enqueue(a.run_id);
  ASSERT_TRUE(RunUntil([&] { return streamer_.seen().size() == 1 && runs.Idle(); }))
      << "the stopped run never finished";
  faulty_->Heal();
  EXPECT_EQ(StatusOf(a.message_id), MessageStatus::kProcessing) << "left for the next start";
  EXPECT_EQ(RunOf(a.run_id).status, RunStatus::kExecuting);
}

TEST_F(RunManagerTest, RecoveryResumesInterruptedRunsAndFailsExhaustedOnes) {
  auto resumable = Post("resume me");
  auto exhausted = Post("too many tries");
  auto orphan = Post("my run is gone");
  Write([&](Repo& repo) {
    for (const auto& [id, attempt] : {std::pair{resumable.run_id, 1}, {exhausted.run_id, 3}}) {
      auto r = repo.GetRun(id).value();
      r.status = RunStatus::kExecuting;  // as a crash left them
      r.attempt = attempt;
      repo.UpdateRun(r);
    }
    auto r = repo.GetRun(orphan.run_id).value();
    r.status = RunStatus::kCompleted;  // the message stayed processing without a run
    repo.UpdateRun(r);
  });
  streamer_.AddText({"resumed"});
  auto& runs = Runs({.backoff = 10ms});
  runs.Recover();
  ASSERT_TRUE(RunUntil([&] { return Completed(resumable.message_id); }));
  EXPECT_EQ(MessageOf(resumable.message_id).content, "resumed");
  EXPECT_EQ(RunOf(resumable.run_id).attempt, 2);
  for (const auto& id : {exhausted.message_id, orphan.message_id}) {
    auto m = MessageOf(id);
    EXPECT_EQ(m.status, MessageStatus::kFailed);
    EXPECT_EQ(m.error, "interrupted");
  }
  EXPECT_EQ(RunOf(exhausted.run_id).status, RunStatus::kFailed);
  EXPECT_EQ(streamer_.seen().size(), 1u) << "only the resumable run asks the provider";
}

// A cancel that lands while the run is being spawned (its strand has not started it yet, so
// no cancellation handler is bound): the run still never asks the provider.
TEST_F(RunManagerTest, ACancelBeforeTheRunStartsMeansNoProviderRequest) {
  auto& runs = Runs({});
  auto a = Post("never asked");
  streamer_.AddText({"should not stream"});
  runs.Enqueue(a.run_id);  // launched: on its strand, not yet run (this thread runs the loop)
  runs.Cancel(a.run_id);
  ASSERT_TRUE(RunUntil([&] { return runs.Idle(); }));
  EXPECT_EQ(streamer_.seen().size(), 0u) << "a cancelled run spent a provider request";
}

TEST_F(RunManagerTest, TheHeartbeatStopsARunWhoseLeaseWasTakenElsewhere) {
  ShortLease lease;
  auto& runs = Runs({.shared_store = true});
  runs.Recover();
  auto a = Post("taken over");
  boost::system::error_code wait_ended;
  ScriptedStep s;
  s.chunks = {"mine ", "not mine any more"};
  s.mid_stream = [&]() -> asio::awaitable<void> {
    Store::WriteJob take = [&](Repo& repo) {
      auto r = repo.GetRun(a.run_id).value();
      r.lease_owner = "another-process";
      r.lease_expires_at = NowMillis() + 60000;
      repo.UpdateRun(r);
      return true;
    };
    co_await db_->Write(std::move(take));
    // The stream stalls (like a provider that stops sending) until this process notices,
    // at its next heartbeat: the run's stop must cancel the pending wait itself.
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(30));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    wait_ended = ec;
  };
  streamer_.Add(std::move(s));
  runs.Enqueue(a.run_id);
  ASSERT_TRUE(RunUntil([&] { return streamer_.seen().size() == 1 && runs.Idle(); }));
  EXPECT_EQ(wait_ended, asio::error::operation_aborted)
      << "the stop did not cancel what the run was waiting on";
  auto r = RunOf(a.run_id);
  EXPECT_EQ(r.lease_owner, "another-process") << "the stopped run wrote after losing its lease";
  EXPECT_EQ(StatusOf(a.message_id), MessageStatus::kProcessing);
  EXPECT_EQ(MessageOf(a.message_id).content.find("not mine"), std::string::npos);
}

// Regression (seen as a run stuck "processing" after a PostgreSQL restart): a flush that
// failed inside the step made the step throw, and the step ran beside the flush ticker under
// `||`, which waits for one side to succeed: the run hung for good, its lease renewed.
TEST_F(RunManagerTest, AStoreOutageMidStreamLeavesTheRunToBeResumed) {
  ShortLease lease;
  auto& runs = Runs({.backoff = 10ms, .shared_store = true});
  runs.Recover();
  auto a = Post("through an outage");
  ScriptedStep s;
  s.chunks = {"before ", "during"};
  s.mid_stream = [this]() -> asio::awaitable<void> {
    faulty_->FailWrites();  // the database goes away
    co_return;
  };
  streamer_.Add(std::move(s));
  streamer_.AddText({"after the outage"});
  runs.Enqueue(a.run_id);
  ASSERT_TRUE(RunUntil([&] { return streamer_.seen().size() == 1 && runs.Idle(); }))
      << "the run hung on the failed store";
  EXPECT_EQ(StatusOf(a.message_id), MessageStatus::kProcessing);
  faulty_->Heal();  // it is back: the lease expired meanwhile, a sweep resumes the run
  ASSERT_TRUE(RunUntil([&] { return Completed(a.message_id); })) << "the run was never resumed";
  EXPECT_EQ(MessageOf(a.message_id).content, "after the outage");
  EXPECT_EQ(RunOf(a.run_id).attempt, 2);
}

}  // namespace
}  // namespace polaris::runs_test
