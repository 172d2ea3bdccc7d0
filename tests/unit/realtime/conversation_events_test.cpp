// SSE conversation logs: message lists turned into numbered message/delta/snapshot events, and
// replay after a cursor. ConversationLog is fed hand-made results; ConversationEvents runs
// against the hub and a real store.
#include "realtime/conversation_events.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "domain/ids.h"
#include "realtime_test_util.h"

namespace polaris::realtime {
namespace {

using realtime_test::ParseJson;
namespace json = boost::json;
namespace asio = boost::asio;

struct SseFrame {
  std::int64_t id = -1;
  std::string event;
  std::string data;
};

// Parses "id: N\nevent: E\ndata: D\n\n".
SseFrame ParseFrame(const std::string& frame) {
  SseFrame out;
  EXPECT_TRUE(frame.ends_with("\n\n")) << frame;
  const auto id_end = frame.find('\n');
  const auto event_end = frame.find('\n', id_end + 1);
  const auto data_end = frame.find('\n', event_end + 1);
  if (!frame.starts_with("id: ") || id_end == std::string::npos || event_end == std::string::npos ||
      data_end == std::string::npos) {
    ADD_FAILURE() << "not an SSE frame: " << frame;
    return out;
  }
  out.id = std::stoll(frame.substr(4, id_end - 4));
  const std::string event_line = frame.substr(id_end + 1, event_end - id_end - 1);
  const std::string data_line = frame.substr(event_end + 1, data_end - event_end - 1);
  EXPECT_TRUE(event_line.starts_with("event: ")) << frame;
  EXPECT_TRUE(data_line.starts_with("data: ")) << frame;
  out.event = event_line.substr(7);
  out.data = data_line.substr(6);
  return out;
}

std::vector<SseFrame> Frames(const ConversationLog::Batch& b) {
  std::vector<SseFrame> out;
  for (const auto& f : b.frames) out.push_back(ParseFrame(f));
  return out;
}

json::object Msg(const std::string& id, const std::string& content,
                 const std::string& status = "processing", const std::string& role = "assistant") {
  return json::object{
      {"_id", id},    {"_creationTime", 1000}, {"conversationId", "cnv_c"}, {"projectId", "prj_p"},
      {"role", role}, {"content", content},    {"status", status}};
}

QueryResultPtr Ok(const json::array& messages) {
  return MakeQuerySuccess(messages);
}

constexpr std::int64_t kFirst = 1000;

class ConversationLogTest : public ::testing::Test {
 protected:
  void Feed(const json::array& messages) { log_->OnQueryResult(0, Ok(messages)); }
  std::shared_ptr<ConversationLog> log_ = std::make_shared<ConversationLog>(kFirst, nullptr);
};

// With a live tail: the text of a message this process streams comes from the tail at once;
// commits bring the rest, and a commit behind the tail sends nothing twice.
class ConversationLogLiveTest : public ConversationLogTest {
 protected:
  ConversationLogLiveTest() { log_ = std::make_shared<ConversationLog>(kFirst, &tail_); }
  void Live(const std::string& content) {
    tail_.Publish("cnv_c", "msg_b", content);
    log_->OnTail("msg_b");
  }
  std::vector<std::string> Events() {
    std::vector<std::string> out;
    for (const auto& f : Frames(log_->Since(kFirst))) out.push_back(f.event + " " + f.data);
    return out;
  }
  LiveTail tail_;
};

TEST_F(ConversationLogLiveTest, TailTextIsSentAtOnceAndCommitsBehindItAddNothing) {
  Feed({Msg("msg_b", "")});
  Live("Hel");
  Live("Hello");
  Feed({Msg("msg_b", "Hel")});  // the store's throttled copy, behind the tail
  Live("Hello, world");
  Feed({Msg("msg_b", "Hello, world")});
  EXPECT_EQ(Events(), (std::vector<std::string>{
                          R"(delta {"_id":"msg_b","append":"Hel"})",
                          R"(delta {"_id":"msg_b","append":"lo"})",
                          R"(delta {"_id":"msg_b","append":", world"})",
                      }));
}

TEST_F(ConversationLogLiveTest, TextTakenBackIsReplacedByAWholeMessage) {
  Feed({Msg("msg_b", "")});
  Live("Step one\n\nfailed try");
  Live("Step one");  // the failed attempt's text is dropped (retry on the fallback provider)
  auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[1].starts_with("message ")) << events[1];
  EXPECT_EQ(ParseJson(events[1].substr(8)).at("content"), "Step one");
}

TEST_F(ConversationLogLiveTest, ASnapshotCarriesTheLiveTextAndKeepsTheStoresKeyOrder) {
  Feed({Msg("msg_b", "")});
  Live("Hello");
  auto frames = Frames(log_->Since(std::nullopt));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].id, kFirst + 1);
  EXPECT_EQ(frames[0].data, json::serialize(json::array{Msg("msg_b", "Hello")}));
}

TEST_F(ConversationLogLiveTest, AfterTheRunTheFinalCommitDecides) {
  Feed({Msg("msg_b", "")});
  Live("Hello wor");
  tail_.End("cnv_c", "msg_b");
  log_->OnTail("msg_b");
  Feed({Msg("msg_b", "Hello")});  // an older flush delivered late: not a rollback
  Feed({Msg("msg_b", "Hello world", "completed")});
  auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], R"(delta {"_id":"msg_b","append":"Hello wor"})");
  EXPECT_TRUE(events[1].starts_with("message ")) << events[1];
  EXPECT_EQ(ParseJson(events[1].substr(8)).at("content"), "Hello world");
  EXPECT_EQ(ParseJson(events[1].substr(8)).at("status"), "completed");
}

TEST_F(ConversationLogLiveTest, ACancelKeepsWhatTheStoreKept) {
  Feed({Msg("msg_b", "")});
  Live("Hello world");
  // Cancelled: the store kept its last flush; the tail's extra text is taken back.
  Feed({Msg("msg_b", "Hello", "cancelled")});
  auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(ParseJson(events[1].substr(8)).at("content"), "Hello");
  Live("Hello world, more");  // a straggler from the stopped run: ignored
  EXPECT_EQ(Events().size(), 2u);
}

TEST_F(ConversationLogTest, NotReadyBeforeTheFirstResult) {
  EXPECT_FALSE(log_->Ready());
  EXPECT_EQ(log_->last_id(), kFirst);
}

TEST_F(ConversationLogTest, FirstResultIsTheBaselineWithoutEvents) {
  json::array list{Msg("msg_a", "hi", "completed", "user"), Msg("msg_b", "Hel")};
  Feed(list);
  EXPECT_TRUE(log_->Ready());
  EXPECT_EQ(log_->last_id(), kFirst);
  EXPECT_TRUE(log_->Since(kFirst).frames.empty());

  auto snap = log_->Since(std::nullopt);
  EXPECT_EQ(snap.last_id, kFirst);
  EXPECT_FALSE(snap.ended);
  auto frames = Frames(snap);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].id, kFirst);
  EXPECT_EQ(frames[0].event, "snapshot");
  EXPECT_EQ(ParseJson(frames[0].data), json::value(list));
}

TEST_F(ConversationLogTest, NewMessageIsAMessageEvent) {
  Feed({Msg("msg_a", "hi", "completed", "user")});
  auto added = Msg("msg_b", "");
  Feed({Msg("msg_a", "hi", "completed", "user"), added});
  EXPECT_EQ(log_->last_id(), kFirst + 1);
  auto frames = Frames(log_->Since(kFirst));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].id, kFirst + 1);
  EXPECT_EQ(frames[0].event, "message");
  EXPECT_EQ(ParseJson(frames[0].data), json::value(added));
}

TEST_F(ConversationLogTest, ContentGrowthIsADeltaWithTheSuffix) {
  Feed({Msg("msg_b", "Hel")});
  Feed({Msg("msg_b", "Hello, wor")});
  Feed({Msg("msg_b", "Hello, world! \xC3\xA9t\xC3\xA9")});  // UTF-8 passes through
  auto frames = Frames(log_->Since(kFirst));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].event, "delta");
  EXPECT_EQ(ParseJson(frames[0].data),
            json::value(json::object{{"_id", "msg_b"}, {"append", "lo, wor"}}));
  EXPECT_EQ(frames[1].event, "delta");
  EXPECT_EQ(ParseJson(frames[1].data),
            json::value(json::object{{"_id", "msg_b"}, {"append", "ld! \xC3\xA9t\xC3\xA9"}}));
}

TEST_F(ConversationLogTest, StatusChangeIsAMessageEvent) {
  Feed({Msg("msg_b", "Hello")});
  auto done = Msg("msg_b", "Hello", "completed");
  Feed({done});
  auto frames = Frames(log_->Since(kFirst));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "message");
  EXPECT_EQ(ParseJson(frames[0].data), json::value(done));

  // Growth together with another change is a whole message too.
  auto more = Msg("msg_b", "Hello there", "failed");
  Feed({more});
  frames = Frames(log_->Since(kFirst + 1));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "message");
  EXPECT_EQ(ParseJson(frames[0].data), json::value(more));
}

TEST_F(ConversationLogTest, RewrittenContentIsAMessageEvent) {
  Feed({Msg("msg_b", "Hello")});
  auto rewritten = Msg("msg_b", "Help");  // not a prefix extension
  Feed({rewritten});
  auto shorter = Msg("msg_b", "He");  // a rollback to a prefix is not growth either
  Feed({shorter});
  auto frames = Frames(log_->Since(kFirst));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].event, "message");
  EXPECT_EQ(ParseJson(frames[0].data), json::value(rewritten));
  EXPECT_EQ(frames[1].event, "message");
  EXPECT_EQ(ParseJson(frames[1].data), json::value(shorter));
}

TEST_F(ConversationLogTest, UnchangedListAddsNoEvent) {
  json::array list{Msg("msg_a", "x"), Msg("msg_b", "y")};
  Feed(list);
  Feed(list);
  Feed(list);
  EXPECT_EQ(log_->last_id(), kFirst);
}

TEST_F(ConversationLogTest, SeveralChangesInOneResultAreNumberedInOrder) {
  Feed({Msg("msg_a", "x"), Msg("msg_b", "y")});
  Feed({Msg("msg_a", "x!"), Msg("msg_b", "y", "completed"), Msg("msg_c", "")});
  auto frames = Frames(log_->Since(kFirst));
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].event, "delta");
  EXPECT_EQ(frames[1].event, "message");
  EXPECT_EQ(frames[2].event, "message");
  for (std::size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(frames[i].id, kFirst + 1 + (int)i);
}

TEST_F(ConversationLogTest, DeletedMessageGivesASnapshotEvent) {
  Feed({Msg("msg_a", "x"), Msg("msg_b", "y")});
  json::array remaining{Msg("msg_a", "x")};
  Feed(remaining);
  auto frames = Frames(log_->Since(kFirst));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "snapshot");
  EXPECT_EQ(ParseJson(frames[0].data), json::value(remaining));
}

class ConversationLogSince : public ConversationLogTest {
 protected:
  void SetUp() override {
    std::string content = "a";
    Feed({Msg("msg_a", content)});
    for (int i = 0; i < 5; ++i) {  // events kFirst+1 .. kFirst+5
      content += static_cast<char>('b' + i);
      Feed({Msg("msg_a", content)});
    }
    ASSERT_EQ(log_->last_id(), kFirst + 5);
  }
};

TEST_F(ConversationLogSince, NulloptGivesOneSnapshotAtTheLastId) {
  auto b = log_->Since(std::nullopt);
  auto frames = Frames(b);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "snapshot");
  EXPECT_EQ(frames[0].id, kFirst + 5);
  EXPECT_EQ(b.last_id, kFirst + 5);
  EXPECT_EQ(ParseJson(frames[0].data), json::value(json::array{Msg("msg_a", "abcdef")}));
}

TEST_F(ConversationLogSince, LastIdGivesNothing) {
  auto b = log_->Since(kFirst + 5);
  EXPECT_TRUE(b.frames.empty());
  EXPECT_EQ(b.last_id, kFirst + 5);
  EXPECT_FALSE(b.ended);
}

TEST_F(ConversationLogSince, ACursorInsideTheLogGivesExactlyTheEventsAfterIt) {
  for (std::int64_t k = kFirst; k < kFirst + 5; ++k) {
    auto b = log_->Since(k);
    auto frames = Frames(b);
    ASSERT_EQ(frames.size(), static_cast<std::size_t>(kFirst + 5 - k)) << k;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      EXPECT_EQ(frames[i].id, k + 1 + static_cast<std::int64_t>(i)) << k;
      EXPECT_EQ(frames[i].event, "delta");
    }
    EXPECT_EQ(b.last_id, kFirst + 5);
    // Replaying the deltas after k onto the content at k gives the current content.
    std::string content = std::string("abcdef").substr(0, static_cast<std::size_t>(k - kFirst + 1));
    for (const auto& f : frames) content += ParseJson(f.data).at("append").as_string();
    EXPECT_EQ(content, "abcdef");
  }
}

TEST_F(ConversationLogSince, TooOldOrFutureCursorsGetASnapshot) {
  for (std::int64_t cursor : {std::int64_t{0}, kFirst - 2, kFirst - 1, kFirst + 6, kFirst + 1000}) {
    auto frames = Frames(log_->Since(cursor));
    ASSERT_EQ(frames.size(), 1u) << cursor;
    EXPECT_EQ(frames[0].event, "snapshot") << cursor;
    EXPECT_EQ(frames[0].id, kFirst + 5) << cursor;
  }
}

TEST_F(ConversationLogTest, CursorBeforeAnyEventOfAQuietLogGetsASnapshot) {
  Feed({Msg("msg_a", "x")});
  auto frames = Frames(log_->Since(kFirst - 1));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "snapshot");
}

TEST_F(ConversationLogTest, OldEventsAreDroppedAndThenGetASnapshot) {
  std::string content = "x";
  Feed({Msg("msg_a", content)});
  constexpr int kEvents = 4096 + 10;  // more than the log keeps
  for (int i = 0; i < kEvents; ++i) {
    content += 'y';
    Feed({Msg("msg_a", content)});
  }
  const std::int64_t last = kFirst + kEvents;
  ASSERT_EQ(log_->last_id(), last);
  auto old = Frames(log_->Since(kFirst));
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].event, "snapshot");
  EXPECT_EQ(old[0].id, last);
  auto recent = Frames(log_->Since(last - 3));
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent[0].id, last - 2);
  EXPECT_EQ(recent[2].id, last);
  // The oldest event still kept is replayable from just before it.
  auto all_kept = Frames(log_->Since(last - 4096));
  EXPECT_EQ(all_kept.size(), 4096u);
  EXPECT_EQ(all_kept.front().event, "delta");
}

TEST_F(ConversationLogTest, FailedResultEndsTheLog) {
  Feed({Msg("msg_a", "x")});
  Feed({Msg("msg_a", "xy")});
  log_->OnQueryResult(0, MakeQueryFailure("Uncaught Error: Conversation not found"));
  auto b = log_->Since(std::nullopt);
  EXPECT_TRUE(b.ended);
  EXPECT_TRUE(b.frames.empty()) << "no snapshot of a conversation that is gone";
  EXPECT_TRUE(log_->Since(kFirst).ended);
  EXPECT_TRUE(log_->Since(kFirst + 1).ended);
  // Later results are ignored.
  Feed({Msg("msg_a", "xyz")});
  EXPECT_EQ(log_->last_id(), kFirst + 1);
  EXPECT_TRUE(log_->Since(std::nullopt).ended);
}

TEST_F(ConversationLogTest, FailedFirstResultEndsTheLogAndMakesItReady) {
  log_->OnQueryResult(0, MakeQueryFailure("Uncaught Error: Unauthorized"));
  EXPECT_TRUE(log_->Ready());
  auto b = log_->Since(std::nullopt);
  EXPECT_TRUE(b.ended);
  EXPECT_TRUE(b.frames.empty());
}

TEST_F(ConversationLogTest, ResultThatIsNotAnArrayIsIgnored) {
  log_->OnQueryResult(0, MakeQuerySuccess(json::object{{"not", "a list"}}));
  EXPECT_FALSE(log_->Ready());
  Feed({Msg("msg_a", "x")});
  EXPECT_TRUE(log_->Ready());
}

TEST_F(ConversationLogTest, NewsWakesTheSignals) {
  asio::io_context io;
  auto signal = std::make_shared<EventSignal>(io.get_executor());
  log_->AddSignal(signal);
  Feed({Msg("msg_a", "x")});
  io.poll();
  EXPECT_TRUE(signal->fired);
  signal->fired = false;
  Feed({Msg("msg_a", "xy")});
  io.restart();
  io.poll();
  EXPECT_TRUE(signal->fired);
  // A signal whose connection is gone is simply skipped.
  signal.reset();
  Feed({Msg("msg_a", "xyz")});
  io.restart();
  io.poll();
  EXPECT_EQ(log_->last_id(), kFirst + 2);
}

// ---- ConversationEvents: logs fed by the hub from a real store -------------------------------

class ConversationEventsTest : public realtime_test::HubFixture {
 protected:
  void SetUp() override {
    HubFixture::SetUp();
    project_ = CreateProject(kAlice, "Alpha");
    conversation_ = CreateConversation(kAlice, project_.id, "Chat");
    user_message_ = InsertMessage(Role::kUser, "Hello?", std::nullopt);
    events_ = std::make_unique<ConversationEvents>(executor(), *hub_);
  }
  void BeforeHubReset() override { events_.reset(); }

  Message InsertMessage(Role role, const std::string& content,
                        std::optional<MessageStatus> status) {
    return HubFixture::InsertMessage(conversation_, role, content, status,
                                     3000 + static_cast<Millis>(++messages_));
  }
  std::shared_ptr<ConversationLog> Open() {
    // Named strings, not temporaries bound to Open's reference parameters inside co_await
    // (docs/architecture.md, "Coroutine rule").
    const std::string id = conversation_.id, owner = kAlice;
    auto log = Await(executor(), [&]() -> asio::awaitable<std::shared_ptr<ConversationLog>> {
      co_return co_await events_->Open(id, owner);
    });
    EXPECT_TRUE(log.has_value() && *log) << "Open did not complete";
    return log ? *log : nullptr;
  }

  Project project_;
  Conversation conversation_;
  Message user_message_;
  int messages_ = 0;
  std::unique_ptr<ConversationEvents> events_;
};

TEST_F(ConversationEventsTest, OpenGivesAReadyLogWithTheMessages) {
  auto log = Open();
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->Ready());
  auto frames = Frames(log->Since(std::nullopt));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "snapshot");
  auto list = ParseJson(frames[0].data);
  ASSERT_EQ(list.as_array().size(), 1u);
  EXPECT_EQ(list.at(0).at("_id").as_string(), user_message_.id);
  EXPECT_EQ(list.at(0).at("content").as_string(), "Hello?");
  EXPECT_EQ(Open().get(), log.get()) << "one log per conversation";
}

TEST_F(ConversationEventsTest, WritesBecomeMessageAndDeltaEvents) {
  auto log = Open();
  ASSERT_TRUE(log);
  const std::int64_t start = log->last_id();

  Message answer = InsertMessage(Role::kAssistant, "", MessageStatus::kProcessing);
  ASSERT_TRUE(RunUntil([&] { return log->last_id() >= start + 1; }));
  auto frames = Frames(log->Since(start));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "message");
  EXPECT_EQ(ParseJson(frames[0].data).at("_id").as_string(), answer.id);

  answer.content = "The answer";
  Write([&](Repo& repo) { repo.UpdateMessage(answer); });
  ASSERT_TRUE(RunUntil([&] { return log->last_id() >= start + 2; }));
  frames = Frames(log->Since(start + 1));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "delta");
  EXPECT_EQ(ParseJson(frames[0].data),
            json::value(json::object{{"_id", answer.id}, {"append", "The answer"}}));

  answer.status = MessageStatus::kCompleted;
  Write([&](Repo& repo) { repo.UpdateMessage(answer); });
  ASSERT_TRUE(RunUntil([&] { return log->last_id() >= start + 3; }));
  frames = Frames(log->Since(start + 2));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "message");
  EXPECT_EQ(ParseJson(frames[0].data).at("status").as_string(), "completed");
}

TEST_F(ConversationEventsTest, DeletingTheProjectEndsTheLog) {
  auto log = Open();
  ASSERT_TRUE(log);
  Write([&](Repo& repo) { repo.DeleteProject(project_.id); });
  ASSERT_TRUE(RunUntil([&] { return log->Since(std::nullopt).ended; }));
  EXPECT_TRUE(log->Since(std::nullopt).frames.empty());
}

TEST_F(ConversationEventsTest, AnotherUsersLogEndsAtOnce) {
  const std::string id = conversation_.id, owner = kBob;
  auto log = Await(executor(), [&]() -> asio::awaitable<std::shared_ptr<ConversationLog>> {
    co_return co_await events_->Open(id, owner);
  });
  ASSERT_TRUE(log && *log);
  EXPECT_TRUE((*log)->Since(std::nullopt).ended);
}

// Regression (ConversationEvents::Open): the result that Subscribe returned must not be
// applied over a newer one the hub pushed to the log in the meantime; the log would go back
// to the older list, and the hub, for which nothing changed, would never push the newer one
// again. Made deterministic by running Open's coroutine on a second io_context that is only
// run after the hub's second push.
TEST_F(ConversationEventsTest, OpenDoesNotApplyAStaleFirstResultAfterANewerPush) {
  std::shared_ptr<ConversationLog> log;
  bool opened = false;
  const std::string conversation_id = conversation_.id;
  const std::string owner = kAlice;
  // Open's coroutine resumes only when this one runs. Declared after the locals above, so it
  // is destroyed (with any unfinished coroutine) before them.
  asio::io_context opener;
  asio::co_spawn(opener, events_->Open(conversation_id, owner),
                 [&](std::exception_ptr e, std::shared_ptr<ConversationLog> l) {
                   EXPECT_FALSE(e);
                   log = std::move(l);
                   opened = true;
                 });
  opener.poll();  // runs Open up to its Subscribe
  auto stats = [&] {
    auto s = Await(executor(), [this]() -> asio::awaitable<QueryHub::Stats> {
      co_return co_await hub_->GetStats();
    });
    return s.value_or(QueryHub::Stats{});
  };
  ASSERT_TRUE(RunUntil([&] { return stats().results_changed == 1; }));  // first result pushed
  Message answer = InsertMessage(Role::kAssistant, "newer", MessageStatus::kProcessing);
  ASSERT_TRUE(RunUntil([&] { return stats().results_changed == 2; }));  // newer result pushed
  opener.restart();
  ASSERT_TRUE(RunUntil([&] {
    opener.poll();
    return opened;
  }));
  ASSERT_TRUE(log);
  auto frames = Frames(log->Since(std::nullopt));
  ASSERT_EQ(frames.size(), 1u);
  auto list = ParseJson(frames[0].data);
  EXPECT_EQ(list.as_array().size(), 2u)
      << "the log went back to the older list: " << frames[0].data;
}

}  // namespace
}  // namespace polaris::realtime
