// The Convex sync protocol state machine, driven directly (no sockets): client frames go to
// Handle(), server frames come from NextFrame(), both on the session's strand.
#include "realtime/sync_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "auth/jwt.h"
#include "domain/ids.h"
#include "realtime/convex_encoding.h"
#include "realtime/mutation_log.h"
#include "realtime_test_util.h"

namespace polaris::realtime {
namespace {

using realtime_test::ParseJson;
namespace json = boost::json;
namespace asio = boost::asio;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
constexpr char kZeroTs[] = "AAAAAAAAAAA=";

struct Client {
  std::shared_ptr<SyncSession> session;
  asio::any_io_executor strand;
};

// The version of a Transition side, as (querySet, identity, ts text).
struct Version {
  std::int64_t query_set;
  std::int64_t identity;
  std::string ts;
  bool operator==(const Version&) const = default;
};
Version VersionOf(const json::value& v) {
  return {v.at("querySet").as_int64(), v.at("identity").as_int64(),
          std::string(v.at("ts").as_string())};
}
std::uint64_t TsOf(const std::string& text) {
  auto ts = DecodeTs(text);
  EXPECT_TRUE(ts.has_value()) << text;
  return ts.value_or(0);
}
std::string TypeOf(const json::value& frame) {
  if (!frame.is_object() || !frame.as_object().contains("type")) return "";
  return std::string(frame.at("type").as_string());
}
// The modification of a Transition for a query id, or nullptr.
const json::object* ModificationFor(const json::value& transition, std::int64_t query_id) {
  for (const auto& m : transition.at("modifications").as_array()) {
    if (m.at("queryId").as_int64() == query_id) return &m.as_object();
  }
  return nullptr;
}
std::vector<std::string> ConversationIds(const json::object& mod) {
  std::vector<std::string> out;
  for (const auto& c : mod.at("value").as_array()) out.emplace_back(c.at("_id").as_string());
  return out;
}

class SyncSessionTest : public realtime_test::HubFixture {
 protected:
  void SetUp() override {
    HubFixture::SetUp();
    auto v = TokenVerifier::Create(AuthConfig{kSecret, "", {}, {}});
    ASSERT_TRUE(v.ok());
    verifier_ = std::move(v.value());
    project_ = CreateProject(kAlice, "Alpha");
    conversation_ = CreateConversation(kAlice, project_.id, "First");
  }
  void BeforeHubReset() override {
    for (auto& c : clients_) c.session->PeerClosed();
    Spin(std::chrono::milliseconds(10));  // lets pending NextFrame calls end
  }

  std::string AliceToken() { return IssueHs256Token(kSecret, kAlice, std::time(nullptr), 3600); }

  Client NewClient() {
    auto strand = asio::make_strand(ioc_);
    Client c{std::make_shared<SyncSession>(
                 strand, SyncDeps{*hub_, *db_, clock_, mutations_, *verifier_, streams_}),
             strand};
    clients_.push_back(c);
    return c;
  }

  void Send(const Client& c, const std::string& text) {
    auto session = c.session;
    auto done = Await(
        c.strand, [session, text]() -> asio::awaitable<void> { co_await session->Handle(text); });
    ASSERT_TRUE(done.has_value()) << "Handle did not complete: " << text;
  }
  // The next frame, which must come (nullopt when the session ended; a failure when nothing
  // came within the wait limit).
  std::optional<std::string> NextRaw(const Client& c) {
    auto session = c.session;
    auto frame = Await(c.strand, [session]() -> asio::awaitable<std::optional<std::string>> {
      co_return co_await session->NextFrame();
    });
    if (!frame.has_value()) {
      ADD_FAILURE() << "no frame came";
      return std::nullopt;
    }
    return *frame;
  }
  // NextFrame() started without waiting for it: the state is shared with the completion
  // handler, so nothing dangles if the test stops early.
  struct PendingFrame {
    bool done = false;
    std::optional<std::string> frame;
  };
  std::shared_ptr<PendingFrame> StartNextFrame(const Client& c) {
    auto pending = std::make_shared<PendingFrame>();
    auto session = c.session;
    asio::co_spawn(
        c.strand,
        [session]() -> asio::awaitable<std::optional<std::string>> {
          co_return co_await session->NextFrame();
        },
        [pending](std::exception_ptr, std::optional<std::string> f) {
          pending->done = true;
          pending->frame = std::move(f);
        });
    return pending;
  }
  json::value Next(const Client& c) {
    auto raw = NextRaw(c);
    if (!raw) {
      ADD_FAILURE() << "the session ended";
      return nullptr;
    }
    return ParseJson(*raw);
  }
  // The next frame must be a Transition; its start must continue the previous one's end.
  json::value NextTransition(const Client& c) {
    auto t = Next(c);
    EXPECT_EQ(TypeOf(t), "Transition") << json::serialize(t);
    if (TypeOf(t) != "Transition") return t;
    CheckChain(c, t);
    return t;
  }
  void CheckChain(const Client& c, const json::value& t) {
    auto& last = last_end_[c.session.get()];
    Version start = VersionOf(t.at("startVersion"));
    Version end = VersionOf(t.at("endVersion"));
    if (last) {
      EXPECT_EQ(start, *last) << "startVersion must equal the previous endVersion";
    } else {
      EXPECT_EQ(start, (Version{0, 0, kZeroTs})) << "the first Transition starts at zero";
    }
    EXPECT_GE(end.query_set, start.query_set);
    EXPECT_GE(end.identity, start.identity);
    EXPECT_GE(TsOf(end.ts), TsOf(start.ts));
    last = end;
  }

  void Connect(const Client& c, const std::string& session_id = "session-1") {
    Send(c, R"({"type":"Connect","sessionId":")" + session_id +
                R"(","connectionCount":0,"lastCloseReason":null})");
  }
  std::string AddConversationsQuery(std::int64_t base, std::int64_t query_id) {
    json::object args{{"projectId", project_.id}};
    json::object add{{"type", "Add"},
                     {"queryId", query_id},
                     {"udfPath", "conversations:getConversations"},
                     {"args", json::array{args}}};
    json::object msg{{"type", "ModifyQuerySet"},
                     {"baseVersion", base},
                     {"newVersion", base + 1},
                     {"modifications", json::array{add}}};
    return json::serialize(msg);
  }
  std::string Authenticate(std::int64_t base, const std::string& token) {
    json::object msg{
        {"type", "Authenticate"}, {"baseVersion", base}, {"tokenType", "User"}, {"value", token}};
    return json::serialize(msg);
  }
  std::string CreateConversationMutation(std::int64_t request_id) {
    json::object msg{{"type", "Mutation"},
                     {"requestId", request_id},
                     {"udfPath", "conversations:create"},
                     {"args", json::array{json::object{{"projectId", project_.id}}}}};
    return json::serialize(msg);
  }

  // Connect, Add query 0 (getConversations), Authenticate as Alice; consumes both Transitions.
  Client AuthenticatedClientWatchingConversations(const std::string& session_id = "session-1") {
    Client c = NewClient();
    Connect(c, session_id);
    Send(c, AddConversationsQuery(0, 0));
    NextTransition(c);
    Send(c, Authenticate(0, AliceToken()));
    auto t = NextTransition(c);
    const auto* mod = ModificationFor(t, 0);
    EXPECT_TRUE(mod && mod->at("type").as_string() == "QueryUpdated") << json::serialize(t);
    return c;
  }

  MutationLog mutations_;
  UserSlots streams_;
  std::unique_ptr<TokenVerifier> verifier_;
  Project project_;
  Conversation conversation_;
  std::vector<Client> clients_;
  std::map<const SyncSession*, std::optional<Version>> last_end_;
};

TEST_F(SyncSessionTest, UnauthenticatedQueryAddFailsWithUnauthorized) {
  Client c = NewClient();
  Connect(c);
  Send(c, AddConversationsQuery(0, 0));
  auto t = NextTransition(c);
  EXPECT_EQ(VersionOf(t.at("startVersion")), (Version{0, 0, kZeroTs}));
  auto end = VersionOf(t.at("endVersion"));
  EXPECT_EQ(end.query_set, 1);
  EXPECT_EQ(end.identity, 0);
  EXPECT_GT(TsOf(end.ts), 0u);
  ASSERT_EQ(t.at("modifications").as_array().size(), 1u);
  const auto* mod = ModificationFor(t, 0);
  ASSERT_TRUE(mod);
  EXPECT_EQ(mod->at("type").as_string(), "QueryFailed");
  EXPECT_NE(std::string(mod->at("errorMessage").as_string()).find("Unauthorized"),
            std::string::npos);
  EXPECT_TRUE(mod->at("logLines").as_array().empty());
  EXPECT_TRUE(mod->at("journal").is_null());
}

TEST_F(SyncSessionTest, AuthenticateRerunsTheQueriesAsTheUser) {
  Client c = NewClient();
  Connect(c);
  Send(c, AddConversationsQuery(0, 0));
  auto first = NextTransition(c);
  ASSERT_EQ(ModificationFor(first, 0)->at("type").as_string(), "QueryFailed");

  Send(c, Authenticate(0, AliceToken()));
  auto t = NextTransition(c);
  EXPECT_EQ(VersionOf(t.at("startVersion")), VersionOf(first.at("endVersion")));
  auto end = VersionOf(t.at("endVersion"));
  EXPECT_EQ(end.query_set, 1);
  EXPECT_EQ(end.identity, 1);
  const auto* mod = ModificationFor(t, 0);
  ASSERT_TRUE(mod) << json::serialize(t);
  EXPECT_EQ(mod->at("type").as_string(), "QueryUpdated");
  EXPECT_EQ(ConversationIds(*mod), std::vector<std::string>{conversation_.id});
  EXPECT_EQ(mod->at("value").at(0).at("title").as_string(), "First");
}

TEST_F(SyncSessionTest, AuthenticateBeforeAnyQueryAndThenAdd) {
  Client c = NewClient();
  Connect(c);
  Send(c, Authenticate(0, AliceToken()));
  auto t1 = NextTransition(c);
  EXPECT_EQ(VersionOf(t1.at("endVersion")).identity, 1);
  EXPECT_TRUE(t1.at("modifications").as_array().empty());
  Send(c, AddConversationsQuery(0, 3));
  auto t2 = NextTransition(c);
  const auto* mod = ModificationFor(t2, 3);
  ASSERT_TRUE(mod);
  EXPECT_EQ(mod->at("type").as_string(), "QueryUpdated");
  EXPECT_EQ(VersionOf(t2.at("endVersion")), (Version{1, 1, VersionOf(t2.at("endVersion")).ts}));
}

TEST_F(SyncSessionTest, InvalidTokenGetsAuthErrorAndEndsTheSession) {
  Client c = NewClient();
  Connect(c);
  Send(c, Authenticate(0, "not-a-jwt"));
  auto frame = Next(c);
  EXPECT_EQ(TypeOf(frame), "AuthError") << json::serialize(frame);
  EXPECT_TRUE(frame.at("authUpdateAttempted").as_bool());
  EXPECT_EQ(frame.at("baseVersion").as_int64(), 0);
  EXPECT_NE(std::string(frame.at("error").as_string()).find("Could not verify token"),
            std::string::npos);
  EXPECT_EQ(NextRaw(c), std::nullopt);
  EXPECT_EQ(c.session->close_code(), 0);
}

TEST_F(SyncSessionTest, TokenSignedWithAnotherSecretIsRejected) {
  Client c = NewClient();
  Connect(c);
  Send(c, Authenticate(0, IssueHs256Token("another-secret-another-secret-xx", kAlice,
                                          std::time(nullptr), 3600)));
  auto frame = Next(c);
  EXPECT_EQ(TypeOf(frame), "AuthError");
  EXPECT_TRUE(frame.at("authUpdateAttempted").as_bool());
  EXPECT_EQ(NextRaw(c), std::nullopt);
  EXPECT_EQ(c.session->close_code(), 0);
}

TEST_F(SyncSessionTest, MutationResponseIsFollowedByATransitionShowingTheWrite) {
  Client c = AuthenticatedClientWatchingConversations();
  Send(c, CreateConversationMutation(0));

  auto response = Next(c);
  ASSERT_EQ(TypeOf(response), "MutationResponse") << json::serialize(response);
  EXPECT_EQ(response.at("requestId").as_int64(), 0);
  EXPECT_TRUE(response.at("success").as_bool());
  ASSERT_TRUE(response.at("result").is_string());
  const std::string new_id(response.at("result").as_string());
  EXPECT_TRUE(IsValidId(new_id, Table::kConversation)) << new_id;
  const std::uint64_t response_ts = TsOf(std::string(response.at("ts").as_string()));
  EXPECT_TRUE(response.at("logLines").as_array().empty());

  // Read-your-writes: the very next Transition already carries the new conversation.
  auto t = NextTransition(c);
  EXPECT_GE(TsOf(VersionOf(t.at("endVersion")).ts), response_ts);
  const auto* mod = ModificationFor(t, 0);
  ASSERT_TRUE(mod) << json::serialize(t);
  EXPECT_EQ(mod->at("type").as_string(), "QueryUpdated");
  auto ids = ConversationIds(*mod);
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_NE(std::find(ids.begin(), ids.end(), new_id), ids.end());
  EXPECT_EQ(CountConversations(project_.id), 2u);
}

TEST_F(SyncSessionTest, ResponseTsIsAtLeastTheCommitTs) {
  Client c = AuthenticatedClientWatchingConversations();
  const std::uint64_t before = clock_.Latest();
  Send(c, CreateConversationMutation(0));
  auto response = Next(c);
  ASSERT_EQ(TypeOf(response), "MutationResponse");
  EXPECT_GT(TsOf(std::string(response.at("ts").as_string())), before);
}

TEST_F(SyncSessionTest, ReplayedMutationOnANewSessionIsAnsweredNotRerun) {
  Client first = AuthenticatedClientWatchingConversations("replay-session");
  Send(first, CreateConversationMutation(7));
  auto raw1 = NextRaw(first);
  ASSERT_TRUE(raw1);
  ASSERT_EQ(TypeOf(ParseJson(*raw1)), "MutationResponse");
  NextTransition(first);
  ASSERT_EQ(CountConversations(project_.id), 2u);
  first.session->PeerClosed();  // the connection drops

  Client second = NewClient();
  Connect(second, "replay-session");
  Send(second, Authenticate(0, AliceToken()));
  NextTransition(second);
  Send(second, CreateConversationMutation(7));
  auto raw2 = NextRaw(second);
  ASSERT_TRUE(raw2);
  EXPECT_EQ(*raw2, *raw1) << "the identical answer";
  auto t = NextTransition(second);
  EXPECT_GE(TsOf(VersionOf(t.at("endVersion")).ts),
            TsOf(std::string(ParseJson(*raw1).at("ts").as_string())));
  EXPECT_EQ(CountConversations(project_.id), 2u) << "not run a second time";

  // Another session id with the same request id is a different mutation.
  Client third = NewClient();
  Connect(third, "another-session");
  Send(third, Authenticate(0, AliceToken()));
  NextTransition(third);
  Send(third, CreateConversationMutation(7));
  auto raw3 = NextRaw(third);
  ASSERT_TRUE(raw3);
  EXPECT_NE(*raw3, *raw1);
  EXPECT_EQ(CountConversations(project_.id), 3u);
}

// A re-send racing its first attempt (another connection of the session still runs it) waits
// for that attempt and answers what it answered, without running it again or polling.
TEST_F(SyncSessionTest, AMutationReSentWhileItsFirstAttemptRunsGetsThatAnswer) {
  Client c = AuthenticatedClientWatchingConversations("racing-session");
  const std::string key = std::to_string(std::string(kAlice).size()) + ":" + kAlice +
                          "racing-session";  // the log's key: the user, then the session
  ASSERT_EQ(mutations_.Begin(key, 9).state, MutationLog::State::kNew);
  bool handled = false;
  auto session = c.session;
  const std::string frame = CreateConversationMutation(9);
  asio::co_spawn(
      c.strand, [session, frame]() -> asio::awaitable<void> { co_await session->Handle(frame); },
      [&handled](std::exception_ptr) { handled = true; });
  ASSERT_TRUE(RunUntil([&] { return mutations_.waiters() == 1; })) << "the re-send did not wait";
  const std::string answer =
      R"({"type":"MutationResponse","requestId":9,"success":true,"result":null,)"
      R"("ts":"AAAAAAAAAAA=","logLines":[]})";
  mutations_.Finish(key, 9, answer);
  ASSERT_TRUE(RunUntil([&] { return handled; })) << "the waiting re-send was not woken";
  auto raw = NextRaw(c);
  ASSERT_TRUE(raw);
  EXPECT_EQ(*raw, answer) << "the first attempt's answer";
  EXPECT_EQ(CountConversations(project_.id), 1u) << "not run a second time";
}

TEST_F(SyncSessionTest, MutationAnswersOfTwoUsersNeverShareAKey) {
  // ("u", "v\nw") and ("u\nv", "w") joined with a newline were the same key: the second
  // user would have been handed the first one's answer.
  const Project mine = CreateProject("u", "Mine");
  auto create = [&](std::int64_t request_id) {
    json::object msg{{"type", "Mutation"},
                     {"requestId", request_id},
                     {"udfPath", "conversations:create"},
                     {"args", json::array{json::object{{"projectId", mine.id}}}}};
    return json::serialize(msg);
  };
  Client a = NewClient();
  Connect(a, "v\\nw");
  Send(a, Authenticate(0, IssueHs256Token(kSecret, "u", std::time(nullptr), 3600)));
  NextTransition(a);
  Send(a, create(7));
  auto first = NextRaw(a);
  ASSERT_TRUE(first);
  EXPECT_TRUE(ParseJson(*first).at("success").as_bool()) << *first;

  Client b = NewClient();
  Connect(b, "w");
  Send(b, Authenticate(0, IssueHs256Token(kSecret, "u\nv", std::time(nullptr), 3600)));
  NextTransition(b);
  Send(b, create(7));
  auto second = NextRaw(b);
  ASSERT_TRUE(second);
  EXPECT_NE(*second, *first);
  EXPECT_FALSE(ParseJson(*second).at("success").as_bool()) << "not the owner: " << *second;
}

TEST_F(SyncSessionTest, FailedMutationAnswersWithoutTs) {
  Client c = NewClient();
  Connect(c);
  Send(c, CreateConversationMutation(1));  // not authenticated
  auto response = Next(c);
  ASSERT_EQ(TypeOf(response), "MutationResponse");
  EXPECT_FALSE(response.at("success").as_bool());
  EXPECT_TRUE(response.at("ts").is_null());
  EXPECT_NE(std::string(response.at("result").as_string()).find("Unauthorized"), std::string::npos);
  EXPECT_EQ(CountConversations(project_.id), 1u);
}

TEST_F(SyncSessionTest, WritesFromElsewhereArePushedAsTransitions) {
  Client c = AuthenticatedClientWatchingConversations();
  auto other = CreateConversation(kAlice, project_.id, "From REST", 5000);
  auto t = NextTransition(c);
  const auto* mod = ModificationFor(t, 0);
  ASSERT_TRUE(mod) << json::serialize(t);
  auto ids = ConversationIds(*mod);
  EXPECT_NE(std::find(ids.begin(), ids.end(), other.id), ids.end());
}

TEST_F(SyncSessionTest, VersionChainIsUnbroken) {
  // Every NextTransition() call checks that startVersion equals the previous endVersion.
  Client c = NewClient();
  Connect(c);
  Send(c, AddConversationsQuery(0, 0));
  NextTransition(c);
  Send(c, Authenticate(0, AliceToken()));
  NextTransition(c);
  Send(c, AddConversationsQuery(1, 1));  // the same query under a second id
  auto t3 = NextTransition(c);
  EXPECT_TRUE(ModificationFor(t3, 1));
  EXPECT_EQ(VersionOf(t3.at("endVersion")).query_set, 2);
  for (int i = 0; i < 3; ++i) {
    Send(c, CreateConversationMutation(100 + i));
    ASSERT_EQ(TypeOf(Next(c)), "MutationResponse");
    auto t = NextTransition(c);
    EXPECT_EQ(ConversationIds(*ModificationFor(t, 0)).size(), i + 2u);
  }
  CreateConversation(kAlice, project_.id, "external", 9000);
  NextTransition(c);
  Send(c, R"({"type":"ModifyQuerySet","baseVersion":2,"newVersion":3,)"
          R"("modifications":[{"type":"Remove","queryId":1}]})");
  auto last = NextTransition(c);
  EXPECT_EQ(VersionOf(last.at("endVersion")).query_set, 3);
  EXPECT_EQ(VersionOf(last.at("endVersion")).identity, 1);
}

TEST_F(SyncSessionTest, RemoveAnswersQueryRemoved) {
  Client c = AuthenticatedClientWatchingConversations();
  Send(c, R"({"type":"ModifyQuerySet","baseVersion":1,"newVersion":2,)"
          R"("modifications":[{"type":"Remove","queryId":0}]})");
  auto t = NextTransition(c);
  EXPECT_EQ(VersionOf(t.at("endVersion")).query_set, 2);
  const auto* mod = ModificationFor(t, 0);
  ASSERT_TRUE(mod) << json::serialize(t);
  EXPECT_EQ(mod->at("type").as_string(), "QueryRemoved");
  // The hub forgets the query once nobody watches it.
  const auto deadline = std::chrono::steady_clock::now() + realtime_test::kWaitLimit;
  std::size_t instances = 1;
  while (instances != 0 && std::chrono::steady_clock::now() < deadline) {
    auto stats = Await(executor(), [this]() -> asio::awaitable<QueryHub::Stats> {
      co_return co_await hub_->GetStats();
    });
    ASSERT_TRUE(stats);
    instances = stats->instances;
    if (instances) Spin(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(instances, 0u);
}

TEST_F(SyncSessionTest, WrongBaseVersionIsFatal) {
  Client c = NewClient();
  Connect(c);
  Send(c, AddConversationsQuery(5, 0));
  auto frame = Next(c);
  EXPECT_EQ(TypeOf(frame), "FatalError") << json::serialize(frame);
  EXPECT_NE(std::string(frame.at("error").as_string()).find("BaseVersionMismatch"),
            std::string::npos);
  EXPECT_EQ(NextRaw(c), std::nullopt);
  EXPECT_EQ(c.session->close_code(), 1002);
}

TEST_F(SyncSessionTest, WrongIdentityBaseVersionIsFatal) {
  Client c = NewClient();
  Connect(c);
  Send(c, Authenticate(3, AliceToken()));
  auto frame = Next(c);
  EXPECT_EQ(TypeOf(frame), "FatalError");
  EXPECT_EQ(NextRaw(c), std::nullopt);
  EXPECT_EQ(c.session->close_code(), 1002);
}

TEST_F(SyncSessionTest, MalformedFramesAreFatal) {
  const std::vector<std::string> bad = {"not json",
                                        "",
                                        "[]",
                                        "42",
                                        R"({"sessionId":"x"})",
                                        R"({"type":"Bogus"})",
                                        R"({"type":7})",
                                        R"({"type":"Connect"})",
                                        R"({"type":"ModifyQuerySet","baseVersion":0})",
                                        R"({"type":"Mutation","udfPath":"conversations:create"})"};
  for (const auto& text : bad) {
    Client c = NewClient();
    Send(c, text);
    auto frame = Next(c);
    EXPECT_EQ(TypeOf(frame), "FatalError") << text << " -> " << json::serialize(frame);
    EXPECT_EQ(NextRaw(c), std::nullopt) << text;
    EXPECT_EQ(c.session->close_code(), 1002) << text;
  }
}

TEST_F(SyncSessionTest, UnknownTypeNamesTheType) {
  Client c = NewClient();
  Connect(c);
  Send(c, R"({"type":"Bogus"})");
  auto frame = Next(c);
  ASSERT_EQ(TypeOf(frame), "FatalError");
  EXPECT_NE(std::string(frame.at("error").as_string()).find("Bogus"), std::string::npos);
}

TEST_F(SyncSessionTest, ActionsAreRefused) {
  Client c = NewClient();
  Connect(c);
  Send(c, R"({"type":"Action","requestId":3,"udfPath":"x:y","args":[{}]})");
  auto frame = Next(c);
  ASSERT_EQ(TypeOf(frame), "ActionResponse") << json::serialize(frame);
  EXPECT_EQ(frame.at("requestId").as_int64(), 3);
  EXPECT_FALSE(frame.at("success").as_bool());
  EXPECT_TRUE(frame.at("result").is_string());
  // The session goes on.
  Send(c, AddConversationsQuery(0, 0));
  EXPECT_EQ(TypeOf(NextTransition(c)), "Transition");
}

TEST_F(SyncSessionTest, ConnectObservesTheClientsTimestampOnceSignedIn) {
  const std::uint64_t future = clock_.Latest() + 30'000'000'000ull;  // 30 s ahead
  Client c = NewClient();
  Send(c, R"({"type":"Connect","sessionId":"s","maxObservedTimestamp":")" + EncodeTs(future) +
              R"("})");
  EXPECT_LT(clock_.Latest(), future) << "an anonymous session changes no global state";
  Send(c, R"({"type":"Authenticate","baseVersion":0,"tokenType":"User","value":")" + AliceToken() +
              R"("})");
  EXPECT_GE(clock_.Latest(), future);
  Send(c, AddConversationsQuery(0, 1));
  auto t = NextTransition(c);
  EXPECT_GE(TsOf(VersionOf(t.at("endVersion")).ts), future);
}

TEST_F(SyncSessionTest, PeerClosedEndsNextFrame) {
  Client c = NewClient();
  Connect(c);
  c.session->PeerClosed();
  EXPECT_EQ(NextRaw(c), std::nullopt);
}

}  // namespace
}  // namespace polaris::realtime

namespace polaris::realtime {
namespace {

class IgnoringSubscriber : public QuerySubscriber {
 public:
  void OnQueryResult(std::int64_t, QueryResultPtr) override {}
};

// One store reader, so that a gate job decides when a query re-run completes.
class SyncSessionOneReaderTest : public SyncSessionTest {
 protected:
  int ReaderThreads() const override { return 1; }
};

// Authenticates with a token of the given lifetime and reports whether the session sent
// anything (or ended) within a short while after the Transition; an expiry armed wrongly fires
// at once.
class SyncSessionExpiryTest : public SyncSessionTest {
 protected:
  // The frame that came soon after authenticating, if any ("(end)" when the session ended).
  std::optional<std::string> FrameSoonAfterAuthenticating(std::int64_t ttl_seconds) {
    Client c = NewClient();
    Connect(c);
    Send(c, Authenticate(0, IssueHs256Token(kSecret, kAlice, std::time(nullptr), ttl_seconds)));
    auto t = NextTransition(c);
    EXPECT_EQ(TypeOf(t), "Transition");
    auto pending = StartNextFrame(c);
    Spin(std::chrono::milliseconds(300));
    std::optional<std::string> out;
    if (pending->done) out = pending->frame.value_or("(end)");
    c.session->PeerClosed();
    EXPECT_TRUE(RunUntil([&] { return pending->done; }));
    return out;
  }
};

TEST_F(SyncSessionExpiryTest, ValidTokenDoesNotEndTheSessionEarly) {
  EXPECT_EQ(FrameSoonAfterAuthenticating(3600), std::nullopt);
  EXPECT_EQ(FrameSoonAfterAuthenticating(10LL * 365 * 24 * 3600), std::nullopt);  // 10 years
}

// Regression (SyncSession::ArmExpiry): for a token valid for more than ~292 years (e.g.
// `polaris token --ttl 10000000000`), the delay until its exp, converted to the steady
// clock's nanoseconds, overflowed int64 and the timer fired at once ("Token expired" right
// after a successful Authenticate). The verifier accepts such tokens, so the session must too.
TEST_F(SyncSessionExpiryTest, FarFutureExpiryDoesNotEndTheSession) {
  EXPECT_EQ(FrameSoonAfterAuthenticating(10'000'000'000), std::nullopt);  // ~317 years
}

// Regression (OnModifyQuerySet's Add branch; OnAuthenticate has the same shape): re-adding a
// query id resets the query and awaits Watch(); a result the hub pushed for the OLD query of
// that id in between (already queued on the session's strand) must not be taken for the NEW
// query's, or the client is sent the old value under the new query until that value changes.
TEST_F(SyncSessionOneReaderTest, ReAddingAQueryIdNeverShowsTheOldQuerysResult) {
  Project empty = CreateProject(kAlice, "Empty");         // no conversations
  Client c = AuthenticatedClientWatchingConversations();  // query 0: project_ (1 conversation)

  // Somebody else already watches the empty project's list.
  auto other = std::make_shared<IgnoringSubscriber>();
  std::weak_ptr<QuerySubscriber> weak_other = other;
  QuerySpec empty_spec{"conversations:getConversations", json::object{{"projectId", empty.id}},
                       kAlice};
  ASSERT_TRUE(Await(executor(), [&]() -> asio::awaitable<QueryResultPtr> {
    co_return co_await hub_->Subscribe(weak_other, 0, empty_spec);
  }));
  auto runs = [&] {
    auto s = Await(executor(), [this]() -> asio::awaitable<QueryHub::Stats> {
      co_return co_await hub_->GetStats();
    });
    return s ? s->runs : 0;
  };
  const auto runs_before = runs();

  // Hold the only reader, then make query 0's hub instance re-run (queued behind the gate).
  std::promise<void> gate;
  auto gate_open = gate.get_future().share();
  store_->SubmitRead([gate_open](Repo&) { gate_open.wait(); }, nullptr);
  struct OpenAtExit {  // the reader must never stay blocked, even when an assertion fails
    std::promise<void>& gate;
    bool opened = false;
    void Open() {
      if (!opened) gate.set_value();
      opened = true;
    }
    ~OpenAtExit() { Open(); }
  } open_at_exit{gate};
  CreateConversation(kAlice, project_.id, "Second", 5000);
  ASSERT_TRUE(RunUntil([&] { return runs() == runs_before + 1; }));

  // The client re-adds query id 0, now for the empty project; the frame is queued on the
  // session's strand, not handled yet.
  json::object add{{"type", "Add"},
                   {"queryId", 0},
                   {"udfPath", "conversations:getConversations"},
                   {"args", json::array{json::object{{"projectId", empty.id}}}}};
  const std::string text = json::serialize(json::object{{"type", "ModifyQuerySet"},
                                                        {"baseVersion", 1},
                                                        {"newVersion", 2},
                                                        {"modifications", json::array{add}}});
  auto session = c.session;
  auto handled = std::make_shared<bool>(false);
  asio::co_spawn(
      c.strand, [session, text]() -> asio::awaitable<void> { co_await session->Handle(text); },
      [handled](std::exception_ptr) { *handled = true; });

  // Let the old query's re-run finish: its completion is now queued on the hub's strand.
  open_at_exit.Open();
  std::promise<void> marker;
  store_->SubmitRead([](Repo&) {}, [&marker](std::exception_ptr) { marker.set_value(); });
  marker.get_future().wait();

  ASSERT_TRUE(RunUntil([&] { return *handled; }));
  auto t = NextTransition(c);
  const auto* mod = ModificationFor(t, 0);
  ASSERT_TRUE(mod) << json::serialize(t);
  ASSERT_EQ(mod->at("type").as_string(), "QueryUpdated");
  EXPECT_TRUE(mod->at("value").as_array().empty())
      << "query 0 now watches the empty project, but the client got: "
      << json::serialize(mod->at("value"));
  hub_->UnsubscribeAll(other.get());
}

// Answers are kept per (user, session): a connection that never sent Connect has a session id
// of its own, so two such connections never share answers.
TEST_F(SyncSessionTest, MutationsBeforeConnectAreNotSharedAcrossConnections) {
  Client alice = NewClient();
  Send(alice, Authenticate(0, AliceToken()));
  NextTransition(alice);
  Send(alice, CreateConversationMutation(0));
  auto raw_alice = NextRaw(alice);
  ASSERT_TRUE(raw_alice);
  ASSERT_TRUE(ParseJson(*raw_alice).at("success").as_bool()) << *raw_alice;

  Client bob = NewClient();
  Send(bob, Authenticate(0, IssueHs256Token(kSecret, kBob, std::time(nullptr), 3600)));
  NextTransition(bob);
  json::object msg{{"type", "Mutation"},
                   {"requestId", 0},
                   {"udfPath", "projects:create"},
                   {"args", json::array{json::object{{"name", "Bob's project"}}}}};
  Send(bob, json::serialize(msg));
  auto raw_bob = NextRaw(bob);
  ASSERT_TRUE(raw_bob);
  EXPECT_NE(*raw_bob, *raw_alice) << "Bob was answered with Alice's mutation response";
  EXPECT_TRUE(ParseJson(*raw_bob).at("success").as_bool()) << *raw_bob;
  std::size_t bob_projects = 0;
  Read([&](Repo& repo) { bob_projects = repo.ListProjects(kBob, -1).size(); });
  EXPECT_EQ(bob_projects, 1u) << "Bob's mutation did not run";
}

TEST_F(SyncSessionTest, SameSessionIdUnderAnotherUserDoesNotGetTheAnswer) {
  Client alice = AuthenticatedClientWatchingConversations("shared-session");
  Send(alice, CreateConversationMutation(1));
  auto raw_alice = NextRaw(alice);
  ASSERT_TRUE(raw_alice);
  NextTransition(alice);
  alice.session->PeerClosed();

  Client bob = NewClient();
  Connect(bob, "shared-session");
  Send(bob, Authenticate(0, IssueHs256Token(kSecret, kBob, std::time(nullptr), 3600)));
  NextTransition(bob);
  Send(bob, CreateConversationMutation(1));  // Bob does not own the project
  auto raw_bob = NextRaw(bob);
  ASSERT_TRUE(raw_bob);
  EXPECT_NE(*raw_bob, *raw_alice);
  auto response = ParseJson(*raw_bob);
  EXPECT_FALSE(response.at("success").as_bool()) << *raw_bob;
  EXPECT_EQ(CountConversations(project_.id), 2u);
}

// A token that expires while the session is open ends it: AuthError with
// authUpdateAttempted false, then the session closes without a code.
TEST_F(SyncSessionTest, TokenExpiryEndsTheSession) {
  // Valid for about two more seconds: exp + 30 s of leeway = now + 2.
  const std::int64_t now = std::time(nullptr);
  const std::string token = IssueHs256Token(kSecret, kAlice, now - 100, 100 - 30 + 2);
  Client c = NewClient();
  Connect(c);
  Send(c, AddConversationsQuery(0, 0));
  NextTransition(c);
  Send(c, Authenticate(0, token));
  auto t = NextTransition(c);
  ASSERT_EQ(VersionOf(t.at("endVersion")).identity, 1);

  auto frame = Next(c);  // waits for the expiry (the wait limit is 5 s)
  ASSERT_EQ(TypeOf(frame), "AuthError") << json::serialize(frame);
  EXPECT_FALSE(frame.at("authUpdateAttempted").as_bool());
  EXPECT_EQ(frame.at("baseVersion").as_int64(), 0);
  EXPECT_NE(std::string(frame.at("error").as_string()).find("expired"), std::string::npos);
  EXPECT_EQ(NextRaw(c), std::nullopt);
  EXPECT_EQ(c.session->close_code(), 0);
}

TEST_F(SyncSessionTest, ReauthenticatingReplacesTheExpiry) {
  const std::int64_t now = std::time(nullptr);
  const std::string short_token = IssueHs256Token(kSecret, kAlice, now - 100, 100 - 30 + 1);
  Client c = NewClient();
  Connect(c);
  Send(c, Authenticate(0, short_token));
  NextTransition(c);
  Send(c, Authenticate(1, AliceToken()));  // the client refreshed its token in time
  auto t = NextTransition(c);
  EXPECT_EQ(VersionOf(t.at("endVersion")).identity, 2);

  // Wait until the first token is well past its validity; no frame may come meanwhile.
  auto pending = StartNextFrame(c);
  const std::int64_t past = now + 2;  // a second or more after valid_until
  ASSERT_TRUE(RunUntil([&] { return pending->done || std::time(nullptr) > past; },
                       std::chrono::seconds(10)));
  EXPECT_FALSE(pending->done) << "unexpected frame: " << pending->frame.value_or("(end)");
  c.session->PeerClosed();
  ASSERT_TRUE(RunUntil([&] { return pending->done; }));
  EXPECT_EQ(pending->frame, std::nullopt);
}

}  // namespace
}  // namespace polaris::realtime
