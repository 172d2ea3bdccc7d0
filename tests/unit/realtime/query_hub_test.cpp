// The live-query hub over a real SqliteStore: shared instances, pushes on committed topics,
// unchanged results withheld, coalescing, Settle and unsubscription.
#include "realtime/query_hub.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/detached.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "domain/ids.h"
#include "domain/topics.h"
#include "realtime_test_util.h"

namespace polaris::realtime {
namespace {

using realtime_test::ParseJson;
namespace json = boost::json;
namespace asio = boost::asio;

// Records every result the hub hands it. Called on the hub's strand, which runs on the test
// thread (the loop only runs there), so no lock is needed.
class Recorder : public QuerySubscriber {
 public:
  void OnQueryResult(std::int64_t query_id, QueryResultPtr result) override {
    results.emplace_back(query_id, std::move(result));
  }
  std::size_t CountFor(std::int64_t id) const {
    std::size_t n = 0;
    for (const auto& [q, r] : results) n += q == id;
    return n;
  }
  QueryResultPtr LastFor(std::int64_t id) const {
    for (auto it = results.rbegin(); it != results.rend(); ++it) {
      if (it->first == id) return it->second;
    }
    return nullptr;
  }
  std::vector<std::pair<std::int64_t, QueryResultPtr>> results;
};

// The ids of the documents in a successful array result.
std::vector<std::string> IdsOf(const QueryResultPtr& r) {
  std::vector<std::string> out;
  if (!r || !r->ok) return out;
  auto v = r->value;
  if (!v.is_array()) return out;
  for (const auto& d : v.as_array()) out.emplace_back(d.at("_id").as_string());
  return out;
}

class QueryHubTest : public realtime_test::HubFixture {
 protected:
  void SetUp() override {
    HubFixture::SetUp();
    p1_ = CreateProject(kAlice, "Alpha");
    p2_ = CreateProject(kAlice, "Beta");
    c1_ = CreateConversation(kAlice, p1_.id, "First");
  }
  void BeforeHubReset() override {
    for (auto* r : {&a_, &b_}) {
      if (*r) hub_->UnsubscribeAll(r->get());
    }
  }

  static QuerySpec Conversations(const std::string& project_id, const std::string& user) {
    return QuerySpec{"conversations:getConversations", json::object{{"projectId", project_id}},
                     user};
  }

  QueryResultPtr Subscribe(const std::shared_ptr<Recorder>& sub, std::int64_t id, QuerySpec spec) {
    std::weak_ptr<QuerySubscriber> weak = sub;
    auto r = Await(executor(), [&]() -> asio::awaitable<QueryResultPtr> {
      co_return co_await hub_->Subscribe(weak, id, spec);
    });
    EXPECT_TRUE(r.has_value()) << "Subscribe did not complete";
    return r ? *r : nullptr;
  }
  void Settle(const QuerySubscriber* sub) {
    auto r = Await(executor(), [&]() -> asio::awaitable<void> { co_await hub_->Settle(sub); });
    EXPECT_TRUE(r.has_value()) << "Settle did not complete";
  }
  QueryHub::Stats Stats() {
    auto r = Await(executor(), [&]() -> asio::awaitable<QueryHub::Stats> {
      co_return co_await hub_->GetStats();
    });
    EXPECT_TRUE(r.has_value()) << "GetStats did not complete";
    return r ? *r : QueryHub::Stats{};
  }
  // Polls the stats until there are `n` instances (removal can wait for a run in flight).
  bool WaitForInstances(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + realtime_test::kWaitLimit;
    while (Stats().instances != n) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      Spin(std::chrono::milliseconds(5));
    }
    return true;
  }

  Project p1_, p2_;
  Conversation c1_;
  std::shared_ptr<Recorder> a_ = std::make_shared<Recorder>();
  std::shared_ptr<Recorder> b_ = std::make_shared<Recorder>();
};

// A message list shows the live text of a processing message at once, the store's once it is
// final; a stored copy behind the shown text does not take it back.
TEST_F(QueryHubTest, MessageListsShowTheLiveTextOfProcessingMessages) {
  Message m = InsertMessage(c1_, Role::kAssistant, "", MessageStatus::kProcessing, 2000);
  QuerySpec spec{"messages:getMessages", json::object{{"conversationId", c1_.id}}, kAlice};
  Subscribe(a_, 1, spec);
  auto content = [&] {
    auto r = a_->LastFor(1);
    return r ? std::string(r->value.at(0).at("content").as_string()) : "";
  };
  // Pushes arrive through the loop: spin until the list shows `want` (or give up).
  auto shows = [&](const std::string& want) {
    const auto deadline = std::chrono::steady_clock::now() + realtime_test::kWaitLimit;
    while (content() != want && std::chrono::steady_clock::now() < deadline) {
      Spin(std::chrono::milliseconds(5));
    }
    return content() == want;
  };
  tail_.Publish(c1_.id, m.id, "Hello");
  EXPECT_TRUE(shows("Hello"));
  tail_.Publish(c1_.id, m.id, "Hello, wor");
  EXPECT_TRUE(shows("Hello, wor"));
  tail_.End(c1_.id, m.id);
  Spin(std::chrono::milliseconds(60));
  EXPECT_EQ(content(), "Hello, wor");  // the store still holds "": the shown text stays
  m.content = "Hello, world";
  m.status = MessageStatus::kCompleted;
  Write([&](Repo& repo) { repo.UpdateMessage(m); });
  EXPECT_TRUE(shows("Hello, world"));
}

TEST_F(QueryHubTest, SubscribeReturnsTheCurrentResult) {
  auto r = Subscribe(a_, 1, Conversations(p1_.id, kAlice));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok) << r->error_message;
  EXPECT_EQ(IdsOf(r), std::vector<std::string>{c1_.id});
  auto v = r->value;
  EXPECT_EQ(v.at(0).at("title").as_string(), "First");
  EXPECT_EQ(v.at(0).at("projectId").as_string(), p1_.id);
  // The Transition fragment carries the same value.
  EXPECT_EQ(r->fragment(), "\"type\":\"QueryUpdated\",\"value\":" + json::serialize(r->value) +
                               ",\"logLines\":[],\"journal\":null}");
  // Anything already pushed to the subscriber is that same shared result.
  for (const auto& [id, pushed] : a_->results) {
    EXPECT_EQ(id, 1);
    EXPECT_EQ(pushed.get(), r.get());
  }
  auto stats = Stats();
  EXPECT_EQ(stats.instances, 1u);
  EXPECT_EQ(stats.subscriptions, 1u);
  EXPECT_EQ(stats.runs, 1u);
}

TEST_F(QueryHubTest, UnauthenticatedSubscriptionFails) {
  auto r = Subscribe(a_, 1, Conversations(p1_.id, ""));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->error_message.find("Unauthorized"), std::string::npos) << r->error_message;
  EXPECT_TRUE(r->fragment().starts_with("\"type\":\"QueryFailed\",\"errorMessage\":"))
      << r->fragment();
  EXPECT_NE(r->fragment().find("Unauthorized"), std::string::npos);
}

TEST_F(QueryHubTest, UnknownFunctionOrMutationFailsWithoutAnInstance) {
  auto r = Subscribe(a_, 1, QuerySpec{"nope:nothing", {}, kAlice});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->error_message.find("Could not find public function"), std::string::npos);
  auto m = Subscribe(a_, 2, QuerySpec{"conversations:create", {{"projectId", p1_.id}}, kAlice});
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->ok);
  EXPECT_EQ(Stats().instances, 0u);
  EXPECT_EQ(CountConversations(p1_.id), 1u);  // the mutation did not run
}

// A flush of streamed text re-runs no list while this process streams that message (its live
// tail has newer text); once the message is not live here, the same flush re-runs the list.
TEST_F(QueryHubTest, StreamedTextFlushOfALiveMessageRerunsNothing) {
  Message m = InsertMessage(c1_, Role::kAssistant, "", MessageStatus::kProcessing, 2000);
  QuerySpec spec{"messages:getMessages", json::object{{"conversationId", c1_.id}}, kAlice};
  Subscribe(a_, 1, spec);
  tail_.Publish(c1_.id, m.id, "Hello");
  Settle(a_.get());
  const auto runs = Stats().runs;
  hub_->OnCommit({topics::MessageContent(c1_.id, m.id)});
  Settle(a_.get());
  Spin(std::chrono::milliseconds(60));
  EXPECT_EQ(Stats().runs, runs);

  tail_.End(c1_.id, m.id);
  hub_->OnCommit({topics::MessageContent(c1_.id, m.id)});
  EXPECT_TRUE(RunUntil([&] { return Stats().runs == runs + 1; }));
}

TEST_F(QueryHubTest, WriteToATopicTheQueryReadPushesANewResult) {
  auto first = Subscribe(a_, 7, Conversations(p1_.id, kAlice));
  ASSERT_TRUE(first && first->ok);
  const std::size_t before = a_->CountFor(7);
  auto c2 = CreateConversation(kAlice, p1_.id, "Second", 3000);
  ASSERT_TRUE(RunUntil([&] { return IdsOf(a_->LastFor(7)).size() == 2; }));
  EXPECT_EQ(a_->CountFor(7), before + 1);
  auto ids = IdsOf(a_->LastFor(7));
  EXPECT_NE(std::find(ids.begin(), ids.end(), c2.id), ids.end());
  EXPECT_NE(a_->LastFor(7).get(), first.get());
}

TEST_F(QueryHubTest, UnrelatedWriteDoesNotPush) {
  auto first = Subscribe(a_, 1, Conversations(p1_.id, kAlice));
  ASSERT_TRUE(first && first->ok);
  const auto runs_before = Stats().runs;
  const std::size_t pushes_before = a_->results.size();

  CreateConversation(kAlice, p2_.id, "Elsewhere");  // topic of project 2 only
  Settle(a_.get());  // the commit's topics reached the hub before this
  Spin(std::chrono::milliseconds(60));
  EXPECT_EQ(a_->results.size(), pushes_before);
  EXPECT_EQ(Stats().runs, runs_before);

  // A related write still gets through, exactly once.
  CreateConversation(kAlice, p1_.id, "Here", 3000);
  Settle(a_.get());
  EXPECT_EQ(a_->results.size(), pushes_before + 1);
  EXPECT_EQ(IdsOf(a_->LastFor(1)).size(), 2u);
  EXPECT_EQ(Stats().runs, runs_before + 1);
}

TEST_F(QueryHubTest, UnchangedResultIsNotPushedAgain) {
  auto first = Subscribe(a_, 1, Conversations(p1_.id, kAlice));
  ASSERT_TRUE(first && first->ok);
  const auto before = Stats();
  const std::size_t pushes_before = a_->results.size();

  // Rewrites the same title and timestamp: the topic is committed, the result is the same.
  Write([&](Repo& repo) { repo.UpdateConversationTitle(c1_.id, c1_.title, c1_.updated_at); });
  Settle(a_.get());
  auto after = Stats();
  EXPECT_EQ(after.runs, before.runs + 1) << "the query should have re-run";
  EXPECT_EQ(after.results_changed, before.results_changed);
  EXPECT_EQ(a_->results.size(), pushes_before);

  // A real change is pushed.
  Write([&](Repo& repo) { repo.UpdateConversationTitle(c1_.id, "Renamed", c1_.updated_at + 1); });
  Settle(a_.get());
  ASSERT_EQ(a_->results.size(), pushes_before + 1);
  EXPECT_NE(json::serialize(a_->LastFor(1)->value).find("Renamed"), std::string::npos);
  EXPECT_EQ(Stats().results_changed, before.results_changed + 1);
}

TEST_F(QueryHubTest, SameFunctionArgsAndUserShareOneInstance) {
  auto ra = Subscribe(a_, 1, Conversations(p1_.id, kAlice));
  auto rb = Subscribe(b_, 42, Conversations(p1_.id, kAlice));
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(ra.get(), rb.get()) << "both subscribers get the one shared result";
  auto stats = Stats();
  EXPECT_EQ(stats.instances, 1u);
  EXPECT_EQ(stats.subscriptions, 2u);
  EXPECT_EQ(stats.runs, 1u);

  CreateConversation(kAlice, p1_.id, "Second", 3000);
  ASSERT_TRUE(RunUntil(
      [&] { return IdsOf(a_->LastFor(1)).size() == 2 && IdsOf(b_->LastFor(42)).size() == 2; }));
  EXPECT_EQ(a_->LastFor(1).get(), b_->LastFor(42).get()) << "the identical shared_ptr";
  EXPECT_EQ(Stats().instances, 1u);
}

TEST_F(QueryHubTest, DifferentUsersOrArgsGetDifferentInstances) {
  auto alice = Subscribe(a_, 1, Conversations(p1_.id, kAlice));
  auto bob = Subscribe(b_, 1, Conversations(p1_.id, kBob));
  ASSERT_TRUE(alice && bob);
  EXPECT_TRUE(alice->ok);
  EXPECT_FALSE(bob->ok) << "Bob does not own the project";
  EXPECT_NE(alice.get(), bob.get());
  EXPECT_EQ(Stats().instances, 2u);

  auto other = Subscribe(a_, 2, Conversations(p2_.id, kAlice));
  ASSERT_TRUE(other && other->ok);
  EXPECT_TRUE(IdsOf(other).empty());
  EXPECT_EQ(Stats().instances, 3u);
}

TEST_F(QueryHubTest, RapidWritesAreCoalesced) {
  auto first = Subscribe(a_, 1, Conversations(p1_.id, kAlice));
  ASSERT_TRUE(first && first->ok);
  const std::size_t pushes_before = a_->CountFor(1);
  const auto runs_before = Stats().runs;

  constexpr int kWrites = 30;
  std::vector<std::string> created;
  for (int i = 0; i < kWrites; ++i) {
    created.push_back(CreateConversation(kAlice, p1_.id, "c" + std::to_string(i), 3000 + i).id);
  }
  ASSERT_TRUE(RunUntil([&] { return IdsOf(a_->LastFor(1)).size() == kWrites + 1; }));
  Settle(a_.get());
  const std::size_t pushes = a_->CountFor(1) - pushes_before;
  EXPECT_GE(pushes, 1u);
  EXPECT_LT(pushes, static_cast<std::size_t>(kWrites));
  EXPECT_LT(Stats().runs - runs_before, static_cast<std::uint64_t>(kWrites));
  // The last push holds the final state.
  auto ids = IdsOf(a_->LastFor(1));
  ASSERT_EQ(ids.size(), kWrites + 1u);
  for (const auto& id : created) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
  }
}

TEST_F(QueryHubTest, CoalescingWhileTheLoopRunsStillEndsWithTheFinalState) {
  auto first = Subscribe(a_, 1, Conversations(p1_.id, kAlice));
  ASSERT_TRUE(first && first->ok);
  // Writes interleaved with the loop: some re-runs happen between writes, and the final
  // state must still arrive after the last one.
  constexpr int kWrites = 15;
  for (int i = 0; i < kWrites; ++i) {
    CreateConversation(kAlice, p1_.id, "c" + std::to_string(i), 3000 + i);
    ioc_.poll();
  }
  ASSERT_TRUE(RunUntil([&] { return IdsOf(a_->LastFor(1)).size() == kWrites + 1; }));
  Settle(a_.get());
  EXPECT_EQ(IdsOf(a_->LastFor(1)).size(), kWrites + 1u);
}

TEST_F(QueryHubTest, SettleCompletesOnceTheResultReflectsTheWrite) {
  auto first = Subscribe(a_, 1, Conversations(p1_.id, kAlice));
  ASSERT_TRUE(first && first->ok);
  for (int i = 0; i < 5; ++i) {
    auto c = CreateConversation(kAlice, p1_.id, "n" + std::to_string(i), 3000 + i);
    Settle(a_.get());  // no polling: when Settle is done, the push is there
    auto ids = IdsOf(a_->LastFor(1));
    EXPECT_EQ(ids.size(), i + 2u);
    EXPECT_NE(std::find(ids.begin(), ids.end(), c.id), ids.end());
  }
}

TEST_F(QueryHubTest, SettleWithoutQueriesCompletesAtOnce) {
  Settle(a_.get());
  CreateConversation(kAlice, p1_.id, "x", 3000);
  Settle(b_.get());
}

TEST_F(QueryHubTest, UnsubscribeAndUnsubscribeAllDropInstances) {
  ASSERT_TRUE(Subscribe(a_, 1, Conversations(p1_.id, kAlice)));
  ASSERT_TRUE(Subscribe(a_, 2, Conversations(p2_.id, kAlice)));
  ASSERT_TRUE(Subscribe(b_, 9, Conversations(p1_.id, kAlice)));
  auto stats = Stats();
  EXPECT_EQ(stats.instances, 2u);
  EXPECT_EQ(stats.subscriptions, 3u);

  hub_->Unsubscribe(a_.get(), 1);  // b_ still watches the project 1 query
  EXPECT_TRUE(WaitForInstances(2));
  EXPECT_EQ(Stats().subscriptions, 2u);

  hub_->UnsubscribeAll(a_.get());
  EXPECT_TRUE(WaitForInstances(1));
  EXPECT_EQ(Stats().subscriptions, 1u);

  hub_->UnsubscribeAll(b_.get());
  EXPECT_TRUE(WaitForInstances(0));
  EXPECT_EQ(Stats().subscriptions, 0u);

  // Nobody is told about later writes.
  const std::size_t a_pushes = a_->results.size(), b_pushes = b_->results.size();
  const auto runs = Stats().runs;
  CreateConversation(kAlice, p1_.id, "later", 3000);
  Settle(a_.get());
  Spin(std::chrono::milliseconds(60));
  EXPECT_EQ(a_->results.size(), a_pushes);
  EXPECT_EQ(b_->results.size(), b_pushes);
  EXPECT_EQ(Stats().runs, runs);
}

TEST_F(QueryHubTest, UnsubscribeRightAfterAWriteStillDropsTheInstance) {
  ASSERT_TRUE(Subscribe(a_, 1, Conversations(p1_.id, kAlice)));
  CreateConversation(kAlice, p1_.id, "Second", 3000);  // a re-run is queued or in flight
  hub_->Unsubscribe(a_.get(), 1);
  EXPECT_TRUE(WaitForInstances(0));
  EXPECT_EQ(Stats().subscriptions, 0u);
}

TEST_F(QueryHubTest, ResubscribingAnIdReplacesItsQuery) {
  ASSERT_TRUE(Subscribe(a_, 1, Conversations(p1_.id, kAlice)));
  auto r = Subscribe(a_, 1, Conversations(p2_.id, kAlice));
  ASSERT_TRUE(r && r->ok);
  EXPECT_TRUE(IdsOf(r).empty());
  EXPECT_TRUE(WaitForInstances(1));
  EXPECT_EQ(Stats().subscriptions, 1u);
  // Writes to project 1 no longer reach id 1.
  const std::size_t pushes = a_->results.size();
  CreateConversation(kAlice, p1_.id, "p1 again", 3000);
  Settle(a_.get());
  EXPECT_EQ(a_->results.size(), pushes);
}

TEST_F(QueryHubTest, ProjectDeletionTurnsTheResultIntoAFailure) {
  auto r = Subscribe(a_, 1, Conversations(p1_.id, kAlice));
  ASSERT_TRUE(r && r->ok);
  Write([&](Repo& repo) { repo.DeleteProject(p1_.id); });
  Settle(a_.get());
  auto last = a_->LastFor(1);
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->ok);
  EXPECT_TRUE(last->fragment().starts_with("\"type\":\"QueryFailed\""));
}

}  // namespace
}  // namespace polaris::realtime

namespace polaris::realtime {
namespace {

// A store whose read completions can be held back: the hub's read has run (its snapshot is
// taken) but the hub hears of its result only when the test releases it.
class HeldReadsStore final : public Store {
 public:
  explicit HeldReadsStore(Store& inner) : inner_(inner) {}
  void SetCommitListener(CommitListener l) override { inner_.SetCommitListener(std::move(l)); }
  void SubmitRead(ReadJob job, Done done) override {
    inner_.SubmitRead(std::move(job), [this, done = std::move(done)](std::exception_ptr e) {
      std::unique_lock lock(mu_);
      if (!hold_) {
        lock.unlock();
        done(e);
        return;
      }
      held_.push_back([done, e] { done(e); });
    });
  }
  void SubmitBackgroundRead(ReadJob job, Done done) override {
    inner_.SubmitBackgroundRead(std::move(job), std::move(done));
  }
  void SubmitWrite(WriteJob job, Done done, Durability d = Durability::kDurable) override {
    inner_.SubmitWrite(std::move(job), std::move(done), d);
  }
  void Close() override { inner_.Close(); }

  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  std::size_t HeldCount() {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  void Release() {
    std::vector<std::function<void()>> held;
    {
      std::lock_guard lock(mu_);
      hold_ = false;
      held.swap(held_);
    }
    for (auto& f : held) f();
  }

 private:
  Store& inner_;
  std::mutex mu_;
  bool hold_ = false;
  std::vector<std::function<void()>> held_;
};

class QueryHubFirstRunTest : public QueryHubTest {
 protected:
  void SetUp() override {
    QueryHubTest::SetUp();
    // The same hub, over the store that can hold read results back (the commit listener of
    // the fixture calls whatever hub_ is).
    held_ = std::make_unique<HeldReadsStore>(*store_);
    hub_ = std::make_unique<QueryHub>(ioc_.get_executor(), *held_, &tail_);
  }
  void TearDown() override {
    held_->Release();
    QueryHubTest::TearDown();
  }
  std::unique_ptr<HeldReadsStore> held_;
};

// Regression: a commit that lands while a new query's first run is out (its read done before
// the commit, its result not back yet) was matched to no topic, since the query's topics are
// known only once that run returns; the stale first result then stayed until another write.
TEST_F(QueryHubFirstRunTest, ACommitDuringAFirstRunIsNotMissed) {
  held_->Hold();
  std::weak_ptr<QuerySubscriber> weak = a_;
  QueryResultPtr first;
  asio::co_spawn(
      executor(),
      [&]() -> asio::awaitable<void> {
        first = co_await hub_->Subscribe(weak, 1, Conversations(p1_.id, kAlice));
      },
      asio::detached);
  ASSERT_TRUE(RunUntil([&] { return held_->HeldCount() == 1; }));  // read done, result held
  auto c2 = CreateConversation(kAlice, p1_.id, "Second", 3000);
  Spin(std::chrono::milliseconds(20));  // the hub handles the commit before the first result
  held_->Release();
  ASSERT_TRUE(RunUntil([&] { return first != nullptr; }));
  EXPECT_EQ(IdsOf(first), std::vector<std::string>{c1_.id});  // read before the commit
  ASSERT_TRUE(RunUntil([&] { return IdsOf(a_->LastFor(1)).size() == 2; }))
      << "the conversation committed during the first run never reached the subscriber";
}

}  // namespace
}  // namespace polaris::realtime
