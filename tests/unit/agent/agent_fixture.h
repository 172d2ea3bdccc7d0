#pragma once
// Fixture for the agent and run-manager tests: a real SqliteStore on a temp file, the real
// provider chain over a scripted streamer (no network), and helpers that post a message the
// way the Messages API does and read back what the run left in the store.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../providers/scripted_streamer.h"
#include "../store/store_test_util.h"
#include "../support/loop_fixture.h"
#include "agent/agent.h"
#include "domain/clock.h"
#include "providers/chain.h"
#include "services/conversations.h"
#include "services/messages.h"
#include "services/projects.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_client.h"

namespace polaris::agent_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class AgentFixture : public test_support::LoopFixture {
 protected:
  static constexpr const char* kUser = "user_agent_test";

  void SetUp() override {
    store_ = std::make_unique<sqlite::SqliteStore>(dir_.File("polaris.db"), 1);
    db_ = std::make_unique<StoreClient>(*store_);
    chain_config_.providers = {{"first", "http://first.invalid", "key", "model-1"}};
    config_.flush_interval = 0ms;  // every chunk is written: fencing shows at once
  }
  void TearDown() override {
    if (store_) store_->Close();
    Spin(20ms);
    db_.reset();
    store_.reset();
  }

  providers::ProviderChain& chain() {
    if (!chain_)
      chain_ = std::make_unique<providers::ProviderChain>(chain_config_, nullptr, streamer_);
    return *chain_;
  }
  // The store client runs use (the fixture's own checks always use db_).
  StoreClient& RunDb() { return run_db_ ? *run_db_ : *db_; }
  agent::AgentDeps Deps() { return agent::AgentDeps{RunDb(), chain(), config_, nullptr, nullptr}; }

  // Runs fn in one write job of the store and waits for it.
  void Write(const std::function<void(Repo&)>& fn) {
    auto done = Await([&]() -> asio::awaitable<void> {
      Store::WriteJob job = [&](Repo& repo) {
        fn(repo);
        return true;
      };
      co_await db_->Write(std::move(job));
    });
    ASSERT_TRUE(done.has_value()) << "the store did not answer";
  }

  struct Posted {
    std::string project_id;
    std::string conversation_id;
    std::string message_id;  // the assistant's
    std::string run_id;
  };
  // A new project and conversation, and `text` posted to it: a processing message, a queued run.
  // Now, not a made-up time: the run's lease is this process's for one lease period.
  Posted Post(const std::string& text) {
    Posted p;
    const Millis now = NowMillis();
    Write([&](Repo& repo) {
      auto project = services::CreateProject(repo, kUser, "Project", now);
      ASSERT_TRUE(project.ok()) << project.error().message;
      auto conv = services::CreateConversation(repo, kUser, project->id, std::nullopt, now);
      ASSERT_TRUE(conv.ok()) << conv.error().message;
      auto posted = services::PostMessage(repo, kUser, conv->id, text, std::nullopt, now);
      ASSERT_TRUE(posted.ok()) << posted.error().message;
      p = {project->id, conv->id, posted->message_id, posted->run_id};
    });
    return p;
  }

  // Spawned as RunManager spawns a run: with its stop's cancellation slot bound.
  agent::RunOutcome Execute(const std::string& run_id, RunStop& stop) {
    agent::AgentDeps deps = Deps();
    running_ = &stop;
    auto outcome = Await(
        stop.executor(),
        [&]() -> asio::awaitable<agent::RunOutcome> {
          co_return co_await agent::ExecuteRun(deps, run_id, stop);
        },
        stop.slot());
    running_ = nullptr;
    EXPECT_TRUE(outcome.has_value()) << "the run did not end";
    return outcome.value_or(agent::RunOutcome::kFailed);
  }
  agent::RunOutcome Execute(const std::string& run_id) {
    RunStop stop(ioc_.get_executor());
    return Execute(run_id, stop);
  }
  // Stops the run being executed (from a mid_stream hook), as a cancel or shutdown would.
  void StopRun(CancelReason reason) {
    ASSERT_NE(running_, nullptr);
    running_->Stop(reason);
  }
  RunStop* running_ = nullptr;

  Message MessageOf(const std::string& id) {
    Message m;
    Write([&](Repo& repo) { m = repo.GetMessage(id).value(); });
    return m;
  }
  polaris::Run RunOf(const std::string& id) {
    polaris::Run r;
    Write([&](Repo& repo) { r = repo.GetRun(id).value(); });
    return r;
  }
  // The content of the file at `path` in the project; nullopt when there is none.
  std::optional<std::string> FileContent(const std::string& project_id, const std::string& path) {
    std::optional<std::string> content;
    Write([&](Repo& repo) {
      for (const auto& f : repo.ListFiles(project_id)) {
        if (f.name == path && f.content) content = *f.content;
      }
    });
    return content;
  }

  store_test::TempDir dir_;
  std::unique_ptr<sqlite::SqliteStore> store_;
  std::unique_ptr<StoreClient> db_;
  StoreClient* run_db_ = nullptr;
  providers::ChainConfig chain_config_;
  providers_test::ScriptedStreamer streamer_;
  std::unique_ptr<providers::ProviderChain> chain_;
  agent::AgentConfig config_;
};

}  // namespace polaris::agent_test
