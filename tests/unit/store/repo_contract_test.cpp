// The same Repo tests against every implementation: SqliteRepo over a temp file, and PgRepo
// over a fresh database of the cluster named by POLARIS_TEST_PG_URI (skipped without it).
// Each test runs inside one transaction, committed at the end, as a store job would.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "domain/ids.h"
#include "domain/topics.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_repo.h"
#include "store/repo.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_repo.h"
#include "store_test_util.h"

namespace polaris {
namespace {

using store_test::PgTestDatabase;

// One implementation with its connection and an open transaction.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Repo& repo() = 0;
  virtual void Commit() = 0;
  virtual std::int64_t Count(const std::string& table) = 0;
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend() : db_(dir_.File("polaris.db"), false), repo_(db_) {
    sqlite::Migrate(db_);
    db_.Exec("BEGIN");
  }
  Repo& repo() override { return repo_; }
  void Commit() override {
    if (sqlite3_get_autocommit(db_.handle()) == 0) db_.Exec("COMMIT");
  }
  std::int64_t Count(const std::string& table) override {
    return store_test::CountRows(db_.handle(), table);
  }

 private:
  store_test::TempDir dir_;
  sqlite::Database db_;
  sqlite::SqliteRepo repo_;
};

class PgBackend final : public Backend {
 public:
  explicit PgBackend(const std::string& uri) : db_(uri), repo_(db_, /*lock_rows=*/true) {
    // One database for the whole suite: each test starts from empty tables instead.
    db_.Exec(
        "TRUNCATE projects, conversations, messages, tool_calls, files, runs, idempotency_keys, "
        "mutation_answers");
    db_.Exec("BEGIN");
  }
  Repo& repo() override { return repo_; }
  void Commit() override {
    if (db_.transaction_status() == PQTRANS_IDLE) return;
    // A COMMIT of a failed transaction answers ROLLBACK: a statement failed unnoticed.
    EXPECT_EQ(db_.Exec("COMMIT").command(), "COMMIT");
  }
  std::int64_t Count(const std::string& table) override {
    return store_test::PgQueryInt(db_, "SELECT count(*) FROM " + table);
  }

 private:
  pg::Connection db_;
  pg::PgRepo repo_;
};

enum class Kind { kSqlite, kPostgres };
void PrintTo(Kind k, std::ostream* os) {
  *os << (k == Kind::kSqlite ? "sqlite" : "postgres");
}

class StoreRepoContract : public ::testing::TestWithParam<Kind> {
 public:
  static void TearDownTestSuite() { pg_database_.reset(); }

 protected:
  void SetUp() override {
    if (GetParam() == Kind::kSqlite) {
      backend_ = std::make_unique<SqliteBackend>();
      return;
    }
    const std::string cluster = store_test::PgTestUri();
    if (cluster.empty()) GTEST_SKIP() << store_test::kPgSkipMessage;
    if (!pg_database_) {
      pg_database_ = std::make_unique<PgTestDatabase>(cluster);
      pg::Connection db(pg_database_->uri());
      pg::Migrate(db);
    }
    backend_ = std::make_unique<PgBackend>(pg_database_->uri());
  }
  void TearDown() override {
    if (backend_) backend_->Commit();
    backend_.reset();
  }

  Repo& repo() { return backend_->repo(); }
  std::int64_t Count(const std::string& table) { return backend_->Count(table); }

  Project AddProject(const std::string& owner = "u1") {
    Project p{NewId(Table::kProject), 100, "p", owner, 100};
    repo().InsertProject(p);
    return p;
  }
  Conversation AddConversation(const Project& p) {
    Conversation c{NewId(Table::kConversation), 100, p.id, "c", 100};
    repo().InsertConversation(c);
    return c;
  }
  static Message ProcessingMessage(const Conversation& c, Millis t = 100) {
    Message m;
    m.id = NewId(Table::kMessage);
    m.creation_time = t;
    m.conversation_id = c.id;
    m.project_id = c.project_id;
    m.role = Role::kAssistant;
    m.status = MessageStatus::kProcessing;
    return m;
  }
  // A run (and the project, conversation and message it belongs to) with the given state.
  polaris::Run AddRun(RunStatus status, Millis created_at, const std::string& lease_owner,
                      Millis lease_expires_at) {
    if (!conversation_) {
      Project p = AddProject();
      conversation_ = AddConversation(p);
    }
    Message m = ProcessingMessage(*conversation_, created_at);
    m.status = MessageStatus::kCompleted;  // only one may be processing per project
    repo().InsertMessage(m);
    polaris::Run r;
    r.id = NewId(Table::kRun);
    r.message_id = m.id;
    r.conversation_id = m.conversation_id;
    r.project_id = m.project_id;
    r.owner_id = "u1";
    r.status = status;
    r.created_at = created_at;
    r.lease_owner = lease_owner;
    r.lease_expires_at = lease_expires_at;
    repo().InsertRun(r);
    return r;
  }
  static bool Contains(const std::vector<std::string>& topics, const std::string& t) {
    return std::find(topics.begin(), topics.end(), t) != topics.end();
  }
  static std::vector<std::string> Sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }
  static std::vector<std::string> Ids(const std::vector<polaris::Run>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) out.push_back(r.id);
    return out;
  }

  std::unique_ptr<Backend> backend_;
  std::optional<Conversation> conversation_;
  // Created by the first PostgreSQL test, dropped after the suite.
  static std::unique_ptr<PgTestDatabase> pg_database_;
};

std::unique_ptr<PgTestDatabase> StoreRepoContract::pg_database_;

// ---- runs: lease columns and the cancel topic ----

TEST_P(StoreRepoContract, RunRoundTripsEveryFieldWithTheLease) {
  polaris::Run r = AddRun(RunStatus::kQueued, 1234, "host:1:aabbccdd", 987654321012);
  auto got = repo().GetRun(r.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->message_id, r.message_id);
  EXPECT_EQ(got->conversation_id, r.conversation_id);
  EXPECT_EQ(got->project_id, r.project_id);
  EXPECT_EQ(got->owner_id, "u1");
  EXPECT_EQ(got->status, RunStatus::kQueued);
  EXPECT_EQ(got->attempt, 0);
  EXPECT_EQ(got->created_at, 1234);
  EXPECT_FALSE(got->started_at.has_value());
  EXPECT_FALSE(got->finished_at.has_value());
  EXPECT_FALSE(got->provider.has_value());
  EXPECT_EQ(got->checkpoint, "");
  EXPECT_EQ(got->lease_owner, "host:1:aabbccdd");
  EXPECT_EQ(got->lease_expires_at, 987654321012);

  polaris::Run u = *got;
  u.status = RunStatus::kExecuting;
  u.attempt = 2;
  u.started_at = 2000;
  u.provider = "openai";
  u.model = "gpt-test";
  u.checkpoint = R"({"step":1})";
  u.lease_owner = "other:2:00112233";
  u.lease_expires_at = 5000;
  repo().UpdateRun(u);
  got = repo().GetRun(r.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, RunStatus::kExecuting);
  EXPECT_EQ(got->attempt, 2);
  EXPECT_EQ(got->started_at, 2000);
  EXPECT_EQ(got->provider, "openai");
  EXPECT_EQ(got->model, "gpt-test");
  EXPECT_EQ(got->checkpoint, R"({"step":1})");
  EXPECT_EQ(got->lease_owner, "other:2:00112233");
  EXPECT_EQ(got->lease_expires_at, 5000);
  EXPECT_EQ(got->created_at, 1234);

  // A run nobody holds: the empty owner and 0 are values, not missing ones.
  polaris::Run free_run = AddRun(RunStatus::kQueued, 1, "", 0);
  got = repo().GetRun(free_run.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->lease_owner, "");
  EXPECT_EQ(got->lease_expires_at, 0);
  EXPECT_FALSE(repo().GetRun(NewId(Table::kRun)).has_value());
}

TEST_P(StoreRepoContract, UpdateRunNotesRunCancelledOnlyForACancelledRun) {
  polaris::Run r = AddRun(RunStatus::kQueued, 100, "a", 1000);
  polaris::Run other = AddRun(RunStatus::kQueued, 100, "a", 1000);
  repo().TakeChangedTopics();
  r.status = RunStatus::kExecuting;
  repo().UpdateRun(r);
  r.status = RunStatus::kCompleted;
  repo().UpdateRun(r);
  other.status = RunStatus::kFailed;
  repo().UpdateRun(other);
  for (const auto& t : repo().TakeChangedTopics()) {
    EXPECT_FALSE(topics::ParseRunCancelled(t).has_value()) << t;
  }
  polaris::Run c = AddRun(RunStatus::kExecuting, 100, "a", 1000);
  repo().TakeChangedTopics();
  c.status = RunStatus::kCancelled;
  repo().UpdateRun(c);
  const auto changed = repo().TakeChangedTopics();
  EXPECT_TRUE(Contains(changed, topics::RunCancelled(c.id)));
  EXPECT_FALSE(Contains(changed, topics::RunCancelled(r.id)));
  EXPECT_EQ(repo().GetRun(c.id)->status, RunStatus::kCancelled);
}

// ---- RenewRunLeases ----

TEST_P(StoreRepoContract, RenewRunLeasesOnlyTheOwnersQueuedOrExecutingRuns) {
  polaris::Run queued = AddRun(RunStatus::kQueued, 100, "me", 1000);
  polaris::Run executing = AddRun(RunStatus::kExecuting, 100, "me", 1000);
  polaris::Run completed = AddRun(RunStatus::kCompleted, 100, "me", 1000);
  polaris::Run failed = AddRun(RunStatus::kFailed, 100, "me", 1000);
  polaris::Run cancelled = AddRun(RunStatus::kCancelled, 100, "me", 1000);
  polaris::Run theirs = AddRun(RunStatus::kExecuting, 100, "them", 1000);
  polaris::Run not_asked = AddRun(RunStatus::kQueued, 100, "me", 1000);
  const std::string missing = NewId(Table::kRun);

  auto renewed = repo().RenewRunLeases(
      "me", {queued.id, executing.id, completed.id, failed.id, cancelled.id, theirs.id, missing},
      9000);
  EXPECT_EQ(Sorted(renewed), Sorted({queued.id, executing.id}));
  EXPECT_EQ(repo().GetRun(queued.id)->lease_expires_at, 9000);
  EXPECT_EQ(repo().GetRun(executing.id)->lease_expires_at, 9000);
  for (const polaris::Run& r : {completed, failed, cancelled, theirs, not_asked}) {
    EXPECT_EQ(repo().GetRun(r.id)->lease_expires_at, 1000) << ToString(r.status);
  }
  // Another process's lease is neither extended nor taken.
  EXPECT_EQ(repo().GetRun(theirs.id)->lease_owner, "them");
  EXPECT_EQ(repo().GetRun(queued.id)->lease_owner, "me");
}

TEST_P(StoreRepoContract, RenewRunLeasesAlsoExtendsAnExpiredLeaseStillHeld) {
  // The owner renews late (a long pause): nobody has taken the run, so it is still its own.
  polaris::Run r = AddRun(RunStatus::kExecuting, 100, "me", 10);
  EXPECT_EQ(repo().RenewRunLeases("me", {r.id}, 5000), std::vector<std::string>{r.id});
  EXPECT_EQ(repo().GetRun(r.id)->lease_expires_at, 5000);
}

TEST_P(StoreRepoContract, RenewRunLeasesWithNothingToRenew) {
  polaris::Run r = AddRun(RunStatus::kQueued, 100, "me", 1000);
  EXPECT_TRUE(repo().RenewRunLeases("me", {}, 9000).empty());
  EXPECT_TRUE(repo().RenewRunLeases("me", {NewId(Table::kRun)}, 9000).empty());
  EXPECT_TRUE(repo().RenewRunLeases("someone", {r.id}, 9000).empty());
  EXPECT_EQ(repo().GetRun(r.id)->lease_expires_at, 1000);
}

TEST_P(StoreRepoContract, RenewRunLeasesToZeroReleasesThem) {
  // What a shutting-down process does: its runs expire at once for the others to take.
  polaris::Run a = AddRun(RunStatus::kQueued, 100, "me", 9000);
  polaris::Run b = AddRun(RunStatus::kExecuting, 100, "me", 9000);
  EXPECT_FALSE(repo().HasExpiredRuns(1000));
  EXPECT_EQ(Sorted(repo().RenewRunLeases("me", {a.id, b.id}, 0)), Sorted({a.id, b.id}));
  EXPECT_TRUE(repo().HasExpiredRuns(1));
  EXPECT_EQ(Sorted(Ids(repo().TakeExpiredRuns("next", 1, 5000, 10))), Sorted({a.id, b.id}));
}

// ---- HasExpiredRuns ----

TEST_P(StoreRepoContract, HasExpiredRunsLooksAtUnfinishedRunsOnly) {
  EXPECT_FALSE(repo().HasExpiredRuns(1'000'000));
  // Finished runs keep whatever lease they had; it no longer matters.
  AddRun(RunStatus::kCompleted, 100, "a", 10);
  AddRun(RunStatus::kFailed, 100, "a", 10);
  AddRun(RunStatus::kCancelled, 100, "a", 10);
  EXPECT_FALSE(repo().HasExpiredRuns(1'000'000));
  AddRun(RunStatus::kQueued, 100, "a", 1000);
  // Expired means before now: not at 1000 itself.
  EXPECT_FALSE(repo().HasExpiredRuns(999));
  EXPECT_FALSE(repo().HasExpiredRuns(1000));
  EXPECT_TRUE(repo().HasExpiredRuns(1001));
}

TEST_P(StoreRepoContract, HasExpiredRunsSeesExecutingRuns) {
  AddRun(RunStatus::kExecuting, 100, "a", 1000);
  EXPECT_FALSE(repo().HasExpiredRuns(1000));
  EXPECT_TRUE(repo().HasExpiredRuns(1001));
}

TEST_P(StoreRepoContract, HasExpiredRunsWritesNothing) {
  AddRun(RunStatus::kQueued, 100, "a", 10);
  repo().TakeChangedTopics();
  EXPECT_TRUE(repo().HasExpiredRuns(1000));
  EXPECT_TRUE(repo().TakeChangedTopics().empty());
  EXPECT_EQ(repo().GetRun(repo().ListUnfinishedRuns().front().id)->lease_owner, "a");
}

// ---- TakeExpiredRuns ----

TEST_P(StoreRepoContract, TakeExpiredRunsOldestFirstUpToTheLimit) {
  // Inserted out of age order, so that neither insertion order nor ids decide.
  polaris::Run third = AddRun(RunStatus::kQueued, 300, "dead", 10);
  polaris::Run first = AddRun(RunStatus::kExecuting, 100, "dead", 10);
  polaris::Run fourth = AddRun(RunStatus::kQueued, 400, "dead", 10);
  polaris::Run second = AddRun(RunStatus::kQueued, 200, "dead", 10);

  auto taken = repo().TakeExpiredRuns("me", 1000, 7000, 2);
  EXPECT_EQ(Sorted(Ids(taken)), Sorted({first.id, second.id}));
  taken = repo().TakeExpiredRuns("me", 1000, 7000, 1);
  EXPECT_EQ(Ids(taken), std::vector<std::string>{third.id});
  taken = repo().TakeExpiredRuns("me", 1000, 7000, 10);
  EXPECT_EQ(Ids(taken), std::vector<std::string>{fourth.id});
  // All taken now, each until 7000.
  EXPECT_TRUE(repo().TakeExpiredRuns("me", 1000, 7000, 10).empty());
  EXPECT_FALSE(repo().HasExpiredRuns(1000));
}

TEST_P(StoreRepoContract, TakeExpiredRunsBreaksTiesByInsertionOrder) {
  std::vector<std::string> inserted;
  for (int i = 0; i < 8; ++i) inserted.push_back(AddRun(RunStatus::kQueued, 500, "dead", 10).id);
  for (const auto& id : inserted) {
    EXPECT_EQ(Ids(repo().TakeExpiredRuns("me", 1000, 7000, 1)), std::vector<std::string>{id});
  }
}

TEST_P(StoreRepoContract, TakeExpiredRunsTakesOnlyExpiredUnfinishedRuns) {
  polaris::Run expired = AddRun(RunStatus::kExecuting, 100, "dead", 999);
  polaris::Run at_now =
      AddRun(RunStatus::kQueued, 50, "alive", 1000);  // expires at now: still held
  polaris::Run alive = AddRun(RunStatus::kQueued, 60, "alive", 5000);
  polaris::Run done = AddRun(RunStatus::kCompleted, 10, "dead", 1);
  polaris::Run failed = AddRun(RunStatus::kFailed, 11, "dead", 1);
  polaris::Run cancelled = AddRun(RunStatus::kCancelled, 12, "dead", 1);

  auto taken = repo().TakeExpiredRuns("me", 1000, 7000, 10);
  EXPECT_EQ(Ids(taken), std::vector<std::string>{expired.id});
  for (const polaris::Run& r : {at_now, alive}) {
    EXPECT_EQ(repo().GetRun(r.id)->lease_owner, "alive");
  }
  for (const polaris::Run& r : {done, failed, cancelled}) {
    auto got = repo().GetRun(r.id);
    EXPECT_EQ(got->lease_owner, "dead");
    EXPECT_EQ(got->lease_expires_at, 1);
  }
}

TEST_P(StoreRepoContract, TakeExpiredRunsReturnsTheUpdatedRows) {
  polaris::Run r = AddRun(RunStatus::kExecuting, 100, "dead", 10);
  polaris::Run u = *repo().GetRun(r.id);
  u.attempt = 2;
  u.started_at = 150;
  u.checkpoint = R"({"step":3})";
  repo().UpdateRun(u);

  auto taken = repo().TakeExpiredRuns("me", 1000, 7000, 10);
  ASSERT_EQ(taken.size(), 1u);
  const polaris::Run& t = taken.front();
  EXPECT_EQ(t.id, r.id);
  EXPECT_EQ(t.lease_owner, "me");
  EXPECT_EQ(t.lease_expires_at, 7000);
  // The rest of the run as it was: the caller resumes from it.
  EXPECT_EQ(t.status, RunStatus::kExecuting);
  EXPECT_EQ(t.attempt, 2);
  EXPECT_EQ(t.started_at, 150);
  EXPECT_EQ(t.checkpoint, R"({"step":3})");
  EXPECT_EQ(t.message_id, r.message_id);
  EXPECT_EQ(t.created_at, 100);
  auto got = repo().GetRun(r.id);
  EXPECT_EQ(got->lease_owner, "me");
  EXPECT_EQ(got->lease_expires_at, 7000);
  // The new owner renews it like any run it holds; the old one no longer can.
  EXPECT_TRUE(repo().RenewRunLeases("dead", {r.id}, 9000).empty());
  EXPECT_EQ(repo().RenewRunLeases("me", {r.id}, 9000), std::vector<std::string>{r.id});
}

TEST_P(StoreRepoContract, TakeExpiredRunsWithNoLimitLeftTakesNothing) {
  AddRun(RunStatus::kQueued, 100, "dead", 10);
  EXPECT_TRUE(repo().TakeExpiredRuns("me", 1000, 7000, 0).empty());
  EXPECT_TRUE(repo().HasExpiredRuns(1000));
}

// ---- mutation answers ----

Repo::MutationKey Key(const std::string& owner, int slot, const std::string& session,
                      std::int64_t request) {
  return Repo::MutationKey{owner, slot, session, request};
}

TEST_P(StoreRepoContract, MutationAnswersAreKeptPerUserSlotSessionAndRequest) {
  EXPECT_FALSE(repo().GetMutationAnswer(Key("u1", 1, "s1", 1), 0).has_value());
  repo().PutMutationAnswer(Key("u1", 1, "s1", 1), R"({"v":"a"})", 1000);
  repo().PutMutationAnswer(Key("u1", 2, "s1", 2), R"({"v":"b"})", 1000);
  repo().PutMutationAnswer(Key("u2", 1, "s1", 1), R"({"v":"c"})", 1000);
  const std::int64_t big = std::int64_t{1} << 53;  // request ids are JSON numbers
  repo().PutMutationAnswer(Key("u1", 3, "s2", big), "big", 1000);
  EXPECT_EQ(repo().GetMutationAnswer(Key("u1", 1, "s1", 1), 0), R"({"v":"a"})");
  EXPECT_EQ(repo().GetMutationAnswer(Key("u1", 2, "s1", 2), 0), R"({"v":"b"})");
  EXPECT_EQ(repo().GetMutationAnswer(Key("u2", 1, "s1", 1), 0), R"({"v":"c"})");
  EXPECT_EQ(repo().GetMutationAnswer(Key("u1", 3, "s2", big), 0), "big");
  // The whole key must match: another session or request in the same slot is not an answer.
  EXPECT_FALSE(repo().GetMutationAnswer(Key("u1", 1, "s1", 3), 0).has_value());
  EXPECT_FALSE(repo().GetMutationAnswer(Key("u1", 1, "s3", 1), 0).has_value());
  EXPECT_FALSE(repo().GetMutationAnswer(Key("u1", 1, "S1", 1), 0).has_value());
  EXPECT_FALSE(repo().GetMutationAnswer(Key("u3", 1, "s1", 1), 0).has_value());
  EXPECT_EQ(Count("mutation_answers"), 4);
}

TEST_P(StoreRepoContract, AMutationAnswerTakesItsSlotOver) {
  repo().PutMutationAnswer(Key("u1", 7, "s1", 1), "first", 1000);
  repo().PutMutationAnswer(Key("u1", 7, "s2", 9), "second", 1100);
  EXPECT_FALSE(repo().GetMutationAnswer(Key("u1", 7, "s1", 1), 0).has_value());
  EXPECT_EQ(repo().GetMutationAnswer(Key("u1", 7, "s2", 9), 0), "second");
  // Recorded anew: its age counts from the replacement.
  EXPECT_EQ(repo().GetMutationAnswer(Key("u1", 7, "s2", 9), 1100), "second");
  // One row per slot: what a user can make the store keep is bounded by its slots.
  EXPECT_EQ(Count("mutation_answers"), 1);
}

TEST_P(StoreRepoContract, MutationAnswersExpireByNotBefore) {
  repo().PutMutationAnswer(Key("u1", 1, "s1", 1), "a", 1000);
  // Recorded at or after not_before: still valid; before it: expired.
  EXPECT_EQ(repo().GetMutationAnswer(Key("u1", 1, "s1", 1), 999), "a");
  EXPECT_EQ(repo().GetMutationAnswer(Key("u1", 1, "s1", 1), 1000), "a");
  EXPECT_FALSE(repo().GetMutationAnswer(Key("u1", 1, "s1", 1), 1001).has_value());
  EXPECT_EQ(Count("mutation_answers"), 1);
}

// ---- InsertProcessingMessage ----

TEST_P(StoreRepoContract, InsertProcessingMessageOnePerProject) {
  Project p = AddProject(), q = AddProject();
  Conversation pc = AddConversation(p), pc2 = AddConversation(p), qc = AddConversation(q);
  // A user message (no status) does not make the project busy.
  Message user = ProcessingMessage(pc);
  user.role = Role::kUser;
  user.status.reset();
  repo().InsertMessage(user);

  Message m1 = ProcessingMessage(pc);
  m1.tool_calls = {ToolCall{"c1", "read_file", "{}", std::nullopt}};
  repo().TakeChangedTopics();
  ASSERT_TRUE(repo().InsertProcessingMessage(m1));
  EXPECT_TRUE(Contains(repo().TakeChangedTopics(), topics::Messages(pc.id)));
  auto got = repo().GetMessage(m1.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status, MessageStatus::kProcessing);
  ASSERT_EQ(got->tool_calls.size(), 1u);
  EXPECT_EQ(got->tool_calls[0].id, "c1");
  EXPECT_EQ(repo().FindProcessingMessage(p.id), m1.id);

  // A second one in the same project, even in another conversation: refused, nothing
  // written, nothing announced.
  const auto messages = Count("messages"), calls = Count("tool_calls");
  Message m2 = ProcessingMessage(pc2);
  m2.tool_calls = {ToolCall{"c2", "write_file", "{}", std::nullopt}};
  EXPECT_FALSE(repo().InsertProcessingMessage(m2));
  EXPECT_TRUE(repo().TakeChangedTopics().empty());
  EXPECT_FALSE(repo().GetMessage(m2.id).has_value());
  EXPECT_EQ(Count("messages"), messages);
  EXPECT_EQ(Count("tool_calls"), calls);
  EXPECT_EQ(repo().FindProcessingMessage(p.id), m1.id);

  // Another project is independent.
  Message m3 = ProcessingMessage(qc);
  EXPECT_TRUE(repo().InsertProcessingMessage(m3));
  EXPECT_EQ(repo().FindProcessingMessage(q.id), m3.id);
  EXPECT_EQ(repo().FindProcessingMessage(p.id), m1.id);
  EXPECT_EQ(Sorted(repo().ListProcessingMessages()), Sorted({m1.id, m3.id}));
}

TEST_P(StoreRepoContract, InsertProcessingMessageAgainOnceTheFirstFinishes) {
  Project p = AddProject();
  Conversation c = AddConversation(p);
  Message m1 = ProcessingMessage(c, 100);
  ASSERT_TRUE(repo().InsertProcessingMessage(m1));
  EXPECT_FALSE(repo().InsertProcessingMessage(ProcessingMessage(c, 101)));

  for (MessageStatus end :
       {MessageStatus::kCompleted, MessageStatus::kFailed, MessageStatus::kCancelled}) {
    Message m = *repo().GetMessage(m1.id);
    m.status = end;
    repo().UpdateMessage(m);
    EXPECT_FALSE(repo().FindProcessingMessage(p.id).has_value());
    Message next = ProcessingMessage(c, 200);
    EXPECT_TRUE(repo().InsertProcessingMessage(next)) << ToString(end);
    EXPECT_EQ(repo().FindProcessingMessage(p.id), next.id);
    EXPECT_FALSE(repo().InsertProcessingMessage(ProcessingMessage(c, 201)));
    m1 = next;
  }
  EXPECT_EQ(repo().ListProcessingMessages(), std::vector<std::string>{m1.id});
}

// The PostgreSQL cases are named Postgres/... so that --gtest_filter='*Postgres*' selects
// exactly them (scripts/run-tests.sh runs them against its cluster).
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreRepoContract, ::testing::Values(Kind::kSqlite));
INSTANTIATE_TEST_SUITE_P(Postgres, StoreRepoContract, ::testing::Values(Kind::kPostgres));

}  // namespace
}  // namespace polaris
