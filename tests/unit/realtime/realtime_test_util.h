#pragma once
// Fixtures for the realtime tests: an io_context driven from the test thread in small slices
// (so subscribers and sessions run on the test thread and need no locks), a real SqliteStore
// on a temp file wired to a QueryHub and a CommitClock the way src/main.cpp wires them.
#include <gtest/gtest.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "../store/store_test_util.h"
#include "../support/loop_fixture.h"
#include "domain/ids.h"
#include "domain/live_tail.h"
#include "realtime/commit_clock.h"
#include "realtime/query_hub.h"
#include "services/conversations.h"
#include "services/projects.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_client.h"

namespace polaris::realtime_test {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

using test_support::kWaitLimit;
using test_support::LoopFixture;

// A real SqliteStore (temp file), a StoreClient, a CommitClock and a QueryHub, wired like
// src/main.cpp: every commit advances the clock and tells the hub its topics.
class HubFixture : public LoopFixture {
 protected:
  static constexpr const char* kAlice = "user_alice";
  static constexpr const char* kBob = "user_bob";

  void SetUp() override {
    store_ = std::make_unique<sqlite::SqliteStore>(dir_.File("polaris.db"), ReaderThreads());
    db_ = std::make_unique<StoreClient>(*store_);
    hub_ = std::make_unique<realtime::QueryHub>(ioc_.get_executor(), *store_, &tail_);
    store_->SetCommitListener([this](std::vector<std::string> topics) {
      clock_.Advance();
      hub_->OnCommit(std::move(topics));
    });
  }
  void TearDown() override {
    if (store_) store_->Close();  // every job done; their completions are queued on the loop
    BeforeHubReset();
    Spin(20ms);
    hub_.reset();
    Spin(80ms);  // lets pending re-run timers of the hub fire and let go of it
    db_.reset();
    store_.reset();
  }
  virtual void BeforeHubReset() {}
  virtual int ReaderThreads() const { return 2; }

  // Runs one write job on the store and waits until it is durable (and its topics have been
  // handed to the hub). The loop does not run meanwhile.
  void Write(const std::function<void(Repo&)>& fn) {
    std::promise<std::exception_ptr> done;
    auto fut = done.get_future();
    store_->SubmitWrite(
        [&fn](Repo& repo) {
          fn(repo);
          return true;
        },
        [&done](std::exception_ptr e) { done.set_value(e); });
    if (auto e = fut.get()) std::rethrow_exception(e);
  }
  void Read(const std::function<void(Repo&)>& fn) {
    std::promise<std::exception_ptr> done;
    auto fut = done.get_future();
    store_->SubmitRead([&fn](Repo& repo) { fn(repo); },
                       [&done](std::exception_ptr e) { done.set_value(e); });
    if (auto e = fut.get()) std::rethrow_exception(e);
  }

  Project CreateProject(const std::string& user, const std::string& name) {
    Project out;
    Write([&](Repo& repo) {
      auto p = services::CreateProject(repo, user, name, 1000);
      if (!p.ok()) throw std::runtime_error("CreateProject: " + p.error().message);
      out = p.value();
    });
    return out;
  }
  Conversation CreateConversation(const std::string& user, const std::string& project_id,
                                  const std::string& title = "Chat", Millis now = 2000) {
    Conversation out;
    Write([&](Repo& repo) {
      auto c = services::CreateConversation(repo, user, project_id, title, now);
      if (!c.ok()) throw std::runtime_error("CreateConversation: " + c.error().message);
      out = c.value();
    });
    return out;
  }
  // A message of the conversation, written as the store would have it.
  Message InsertMessage(const Conversation& c, Role role, const std::string& content,
                        std::optional<MessageStatus> status, Millis creation_time) {
    Message m;
    m.id = NewId(Table::kMessage);
    m.creation_time = creation_time;
    m.conversation_id = c.id;
    m.project_id = c.project_id;
    m.role = role;
    m.content = content;
    m.status = status;
    Write([&](Repo& repo) { repo.InsertMessage(m); });
    return m;
  }
  std::size_t CountConversations(const std::string& project_id) {
    std::size_t n = 0;
    Read([&](Repo& repo) { n = repo.ListConversations(project_id).size(); });
    return n;
  }

  asio::any_io_executor executor() { return ioc_.get_executor(); }

  store_test::TempDir dir_;
  std::unique_ptr<sqlite::SqliteStore> store_;
  std::unique_ptr<StoreClient> db_;
  realtime::CommitClock clock_;
  LiveTail tail_;  // outlives the hub, which watches it
  std::unique_ptr<realtime::QueryHub> hub_;
};

inline json::value ParseJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) {
    ADD_FAILURE() << "not JSON: " << text;
    return nullptr;
  }
  return v;
}

}  // namespace polaris::realtime_test
