// PgStore between processes: two stores on one fresh database stand for two processes sharing
// it. Needs POLARIS_TEST_PG_URI (skipped without it); ChangeFeed::NotifySql is tested without
// a database and always runs.
#include "store/postgres/pg_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/ids.h"
#include "domain/topics.h"
#include "store/postgres/pg_change_feed.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_repo.h"
#include "store_test_util.h"

namespace polaris::pg {
namespace {

using store_test::PgQueryInt;
using store_test::PgTestDatabase;
using store_test::WaitUntil;

// Only guards against a hang; nothing asserts on how long anything takes.
constexpr auto kHangGuard = std::chrono::seconds(60);

// ---- ChangeFeed::NotifySql (no database) ----

constexpr std::size_t kMaxPayload = 7000;  // pg_change_feed.cpp: under PostgreSQL's 8000

// The payloads of NotifySql's statements, read back: each is
// "SELECT pg_notify('polaris_changes', '<payload>'); " with quotes doubled in the literal.
std::vector<std::string> Payloads(const std::string& sql) {
  const std::string head = "SELECT pg_notify('polaris_changes', '";
  const std::string tail = "); ";
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < sql.size()) {
    if (sql.compare(pos, head.size(), head) != 0) {
      ADD_FAILURE() << "unexpected SQL at " << pos << ": " << sql.substr(pos, 80);
      return out;
    }
    pos += head.size();
    std::string payload;
    while (true) {
      if (pos >= sql.size()) {
        ADD_FAILURE() << "unterminated literal";
        return out;
      }
      if (sql[pos] == '\'') {
        if (pos + 1 < sql.size() && sql[pos + 1] == '\'') {
          payload += '\'';
          pos += 2;
          continue;
        }
        ++pos;
        break;
      }
      payload += sql[pos++];
    }
    if (sql.compare(pos, tail.size(), tail) != 0) {
      ADD_FAILURE() << "unexpected SQL after a literal: " << sql.substr(pos, 80);
      return out;
    }
    pos += tail.size();
    out.push_back(std::move(payload));
  }
  return out;
}

std::vector<std::string> Lines(const std::string& payload) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto nl = payload.find('\n', start);
    out.push_back(payload.substr(start, nl - start));
    if (nl == std::string::npos) return out;
    start = nl + 1;
  }
}

// Every payload starts with the origin, and together they carry `topics` in order.
void ExpectCarries(const std::vector<std::string>& payloads, const std::string& origin,
                   const std::vector<std::string>& topics) {
  std::vector<std::string> carried;
  for (const auto& p : payloads) {
    auto lines = Lines(p);
    ASSERT_GE(lines.size(), 2u) << "a payload without topics";
    EXPECT_EQ(lines.front(), origin);
    carried.insert(carried.end(), lines.begin() + 1, lines.end());
  }
  EXPECT_EQ(carried, topics);
}

TEST(StorePgChangeFeed, NotifySqlIsEmptyWithNothingToAnnounce) {
  EXPECT_EQ(ChangeFeed::NotifySql("proc:1:aa", {}), "");
  // Topics that cannot travel in a payload are left out; none left: no statement at all.
  EXPECT_EQ(ChangeFeed::NotifySql("proc:1:aa", {"bad\ntopic", std::string("nul\0x", 5)}), "");
}

TEST(StorePgChangeFeed, NotifySqlOneStatementForAFewTopics) {
  EXPECT_EQ(ChangeFeed::NotifySql("proc:1:aa", {"c:prj_1", "f:prj_1", "rc:run_2"}),
            "SELECT pg_notify('polaris_changes', 'proc:1:aa\nc:prj_1\nf:prj_1\nrc:run_2'); ");
}

TEST(StorePgChangeFeed, NotifySqlQuotesTheLiteral) {
  // Quotes doubled; a backslash is an ordinary character (standard_conforming_strings).
  const std::vector<std::string> topics = {"f:it's", "p:a\\b", "p:''"};
  const std::string sql = ChangeFeed::NotifySql("o'rigin", topics);
  EXPECT_NE(sql.find("'o''rigin\nf:it''s\np:a\\b\np:'''''); "), std::string::npos) << sql;
  auto payloads = Payloads(sql);
  ASSERT_EQ(payloads.size(), 1u);
  ExpectCarries(payloads, "o'rigin", topics);
}

TEST(StorePgChangeFeed, NotifySqlSkipsTopicsWithNewlineOrNul) {
  const std::string sql = ChangeFeed::NotifySql(
      "o", {"a", "b\nc", std::string("d\0e", 3), "f", "\n", std::string(1, '\0'), "g"});
  auto payloads = Payloads(sql);
  ASSERT_EQ(payloads.size(), 1u);
  ExpectCarries(payloads, "o", {"a", "f", "g"});
}

TEST(StorePgChangeFeed, NotifySqlSplitsPayloadsUnderTheLimit) {
  const std::string origin = "host.example:12345:0a1b2c3d";
  std::vector<std::string> topics;
  for (int i = 0; i < 3000; ++i) {
    topics.push_back((i % 2 ? "f:" : "mc:") + NewId(Table::kConversation) + "/" +
                     NewId(Table::kMessage));
  }
  std::sort(topics.begin(), topics.end());
  const std::string sql = ChangeFeed::NotifySql(origin, topics);
  auto payloads = Payloads(sql);
  std::size_t total = 0;
  for (const auto& t : topics) total += t.size() + 1;
  ASSERT_GT(total, 20 * kMaxPayload);  // many statements, not a borderline case
  EXPECT_GE(payloads.size(), total / kMaxPayload + 1);
  for (const auto& p : payloads) EXPECT_LE(p.size(), kMaxPayload);
  ExpectCarries(payloads, origin, topics);
  // Filled up: splitting only where the next topic would not fit.
  for (std::size_t i = 0; i + 1 < payloads.size(); ++i) {
    const std::string next = Lines(payloads[i + 1])[1];
    EXPECT_GT(payloads[i].size() + 1 + next.size(), kMaxPayload) << i;
  }
}

TEST(StorePgChangeFeed, NotifySqlPayloadOfExactlyTheLimitStaysWhole) {
  // Origin of 10 bytes, topics of 9: each adds 10 with its newline; 699 of them make 7000.
  const std::string origin = "0123456789";
  std::vector<std::string> topics;
  for (int i = 0; i < 700; ++i) {
    std::string t = "t:" + std::to_string(1000000 + i);  // 9 bytes
    ASSERT_EQ(t.size(), 9u);
    topics.push_back(t);
  }
  std::vector<std::string> fits(topics.begin(), topics.end() - 1);
  auto payloads = Payloads(ChangeFeed::NotifySql(origin, fits));
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_EQ(payloads[0].size(), kMaxPayload);
  ExpectCarries(payloads, origin, fits);

  payloads = Payloads(ChangeFeed::NotifySql(origin, topics));
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_EQ(payloads[0].size(), kMaxPayload);
  EXPECT_EQ(payloads[1], origin + "\n" + topics.back());
  ExpectCarries(payloads, origin, topics);
}

TEST(StorePgChangeFeed, NotifySqlSendsAnOversizedTopicAlone) {
  // Cannot be split; it still goes out (alone) rather than being lost.
  const std::string big = "f:" + std::string(kMaxPayload, 'x');
  auto payloads = Payloads(ChangeFeed::NotifySql("o", {"a", big, "b"}));
  ASSERT_EQ(payloads.size(), 3u);
  EXPECT_EQ(payloads[0], "o\na");
  EXPECT_EQ(payloads[1], "o\n" + big);
  EXPECT_EQ(payloads[2], "o\nb");
}

// ---- two stores on one database (PostgreSQL) ----

class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // False if it stayed shut until the hang guard.
  bool Wait() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kHangGuard, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// The jobs a test submits. When the test leaves, also through a failed assertion, it opens
// `release` and waits for all of them, so that no job outlives what it captured by reference:
// declare it after everything its jobs capture.
class Jobs {
 public:
  explicit Jobs(Gate& release) : release_(release) {}
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;
  ~Jobs() {
    release_.Open();
    for (auto& f : futures_) {
      if (f.valid()) f.wait_for(kHangGuard);
    }
  }
  std::future<std::exception_ptr>& Write(PgStore& store, Store::WriteJob job) {
    auto done = std::make_shared<std::promise<std::exception_ptr>>();
    futures_.push_back(done->get_future());
    store.SubmitWrite(std::move(job), [done](std::exception_ptr e) { done->set_value(e); });
    return futures_.back();
  }
  std::future<std::exception_ptr>& Read(PgStore& store, Store::ReadJob job) {
    auto done = std::make_shared<std::promise<std::exception_ptr>>();
    futures_.push_back(done->get_future());
    store.SubmitRead(std::move(job), [done](std::exception_ptr e) { done->set_value(e); });
    return futures_.back();
  }

 private:
  Gate& release_;
  std::deque<std::future<std::exception_ptr>> futures_;  // stable references
};

// What one store's commit listener heard, from its own writer and from the change feed.
class TopicLog {
 public:
  void Add(const std::vector<std::string>& topics) {
    std::lock_guard lock(mu_);
    heard_.insert(heard_.end(), topics.begin(), topics.end());
  }
  int Count(const std::string& topic) {
    std::lock_guard lock(mu_);
    return static_cast<int>(std::count(heard_.begin(), heard_.end(), topic));
  }
  bool Heard(const std::string& topic) { return Count(topic) > 0; }
  // Waits (up to 5 s) until the topic has been heard.
  bool WaitFor(const std::string& topic) {
    return WaitUntil([&] { return Heard(topic); });
  }

 private:
  std::mutex mu_;
  std::vector<std::string> heard_;
};

class StorePgStore : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string cluster = store_test::PgTestUri();
    if (cluster.empty()) GTEST_SKIP() << store_test::kPgSkipMessage;
    database_ = std::make_unique<PgTestDatabase>(cluster);
  }
  void TearDown() override {
    for (auto& s : stores_) s->Close();
    stores_.clear();
    logs_.clear();
    observer_.reset();
    database_.reset();
  }

  // What a store's commit listener hears. Owned here, not by the test body: a store's feed may
  // deliver until TearDown has closed it.
  TopicLog& NewLog() { return *logs_.emplace_back(std::make_unique<TopicLog>()); }
  // A store as one process opens it; its commit listener records into `log`.
  PgStore& OpenStore(TopicLog& log) {
    stores_.push_back(std::make_unique<PgStore>(database_->uri(), 1));
    stores_.back()->SetCommitListener([&log](std::vector<std::string> topics) { log.Add(topics); });
    return *stores_.back();
  }
  // A connection of the test's own, outside both stores.
  Connection& Observer() {
    if (!observer_) observer_ = std::make_unique<Connection>(database_->uri());
    return *observer_;
  }
  // How many of the database's sessions wait for a lock another transaction holds.
  std::int64_t LockWaiters() {
    return PgQueryInt(Observer(),
                      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND wait_event_type = 'Lock'");
  }

  // Runs a write job and waits for it; rethrows what it failed with.
  static void Write(PgStore& store, Store::WriteJob job) {
    auto done = std::make_shared<std::promise<std::exception_ptr>>();
    auto result = done->get_future();
    store.SubmitWrite(std::move(job), [done](std::exception_ptr e) { done->set_value(e); });
    if (result.wait_for(kHangGuard) != std::future_status::ready) {
      throw std::runtime_error("write job hung");
    }
    if (auto e = result.get()) std::rethrow_exception(e);
  }
  static std::exception_ptr Get(std::future<std::exception_ptr>& f) {
    if (f.wait_for(kHangGuard) != std::future_status::ready) {
      return std::make_exception_ptr(std::runtime_error("write job hung"));
    }
    return f.get();
  }
  static std::string What(std::exception_ptr e) {
    if (!e) return "";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      return x.what();
    }
  }

  // A project with a conversation, an assistant message and its queued run.
  struct Seed {
    Project project;
    Conversation conversation;
    Message message;
    polaris::Run run;
  };
  static Seed MakeSeed(const std::string& owner = "u1") {
    Seed s;
    s.project = Project{NewId(Table::kProject), 100, "p", owner, 100};
    s.conversation = Conversation{NewId(Table::kConversation), 100, s.project.id, "c", 100};
    s.message.id = NewId(Table::kMessage);
    s.message.creation_time = 100;
    s.message.conversation_id = s.conversation.id;
    s.message.project_id = s.project.id;
    s.message.role = Role::kAssistant;
    s.message.status = MessageStatus::kCompleted;
    s.run.id = NewId(Table::kRun);
    s.run.message_id = s.message.id;
    s.run.conversation_id = s.conversation.id;
    s.run.project_id = s.project.id;
    s.run.owner_id = owner;
    s.run.created_at = 100;
    return s;
  }
  static void Insert(Repo& repo, const Seed& s) {
    repo.InsertProject(s.project);
    repo.InsertConversation(s.conversation);
    repo.InsertMessage(s.message);
    repo.InsertRun(s.run);
  }
  static Message ProcessingMessage(const Seed& s) {
    Message m = s.message;
    m.id = NewId(Table::kMessage);
    m.status = MessageStatus::kProcessing;
    return m;
  }
  static FileNode Folder(const std::string& project_id, const std::string& name) {
    return FileNode{NewId(Table::kFile), 100,          project_id, std::nullopt, name,
                    FileType::kFolder,   std::nullopt, 100};
  }

  std::unique_ptr<PgTestDatabase> database_;
  std::vector<std::unique_ptr<TopicLog>> logs_;  // outlive the stores that write to them
  std::vector<std::unique_ptr<PgStore>> stores_;
  std::unique_ptr<Connection> observer_;
};

Store::WriteJob AddProject(const std::string& owner) {
  return [owner](Repo& repo) {
    repo.InsertProject(Project{NewId(Table::kProject), 100, "p", owner, 100});
    return true;
  };
}

TEST_F(StorePgStore, EachStoreHearsTheOthersCommitsAndItsOwnOnce) {
  TopicLog &heard_a = NewLog(), &heard_b = NewLog();
  PgStore& a = OpenStore(heard_a);
  PgStore& b = OpenStore(heard_b);
  const auto pa = topics::Projects("owner_a"), pb = topics::Projects("owner_b");

  Write(a, AddProject("owner_a"));
  // Its own writer told it before the job completed.
  EXPECT_EQ(heard_a.Count(pa), 1);
  ASSERT_TRUE(heard_b.WaitFor(pa)) << "store b never heard store a's commit";

  Write(b, AddProject("owner_b"));
  EXPECT_EQ(heard_b.Count(pb), 1);
  ASSERT_TRUE(heard_a.WaitFor(pb)) << "store a never heard store b's commit";
  // Notifications arrive in commit order: a's own, had the feed passed it on, would have
  // come before b's. So a heard its commit once, from its writer only.
  EXPECT_EQ(heard_a.Count(pa), 1);

  Write(a, AddProject("owner_c"));
  ASSERT_TRUE(heard_b.WaitFor(topics::Projects("owner_c")));
  EXPECT_EQ(heard_b.Count(pb), 1);
  EXPECT_EQ(heard_b.Count(pa), 1);
  EXPECT_EQ(heard_a.Count(pb), 1);
}

TEST_F(StorePgStore, RolledBackJobsAreNotAnnounced) {
  TopicLog &heard_a = NewLog(), &heard_b = NewLog();
  PgStore& a = OpenStore(heard_a);
  OpenStore(heard_b);
  Write(a, [](Repo& repo) {
    repo.InsertProject(Project{NewId(Table::kProject), 100, "p", "dropped", 100});
    return false;  // rolls back its own changes
  });
  Write(a, AddProject("kept"));
  ASSERT_TRUE(heard_b.WaitFor(topics::Projects("kept")));
  EXPECT_FALSE(heard_b.Heard(topics::Projects("dropped")));
  EXPECT_FALSE(heard_a.Heard(topics::Projects("dropped")));
  EXPECT_EQ(PgQueryInt(Observer(), "SELECT count(*) FROM projects"), 1);
}

TEST_F(StorePgStore, ChangeFeedDeliversEverythingAfterItReconnects) {
  TopicLog &heard_a = NewLog(), &heard_b = NewLog();
  PgStore& a = OpenStore(heard_a);
  OpenStore(heard_b);
  // Cut both feeds' listening connections, as a server restart or a network drop would.
  EXPECT_EQ(PgQueryInt(Observer(),
                       "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                       "datname = current_database() AND query = 'LISTEN polaris_changes' AND "
                       "pid <> pg_backend_pid()"),
            2);
  ASSERT_TRUE(heard_a.WaitFor(topics::Everything()));
  ASSERT_TRUE(heard_b.WaitFor(topics::Everything()));
  // And it listens again.
  Write(a, AddProject("after"));
  EXPECT_TRUE(heard_b.WaitFor(topics::Projects("after")));
}

TEST_F(StorePgStore, RacingCheckThenInsertOfOneFolderKeepsOneRowAndBothSucceed) {
  TopicLog &heard_a = NewLog(), &heard_b = NewLog();
  PgStore& a = OpenStore(heard_a);
  PgStore& b = OpenStore(heard_b);
  Seed seed = MakeSeed();
  Write(a, [&](Repo& repo) {
    Insert(repo, seed);
    return true;
  });
  const std::string project_id = seed.project.id;
  // The way a service creates a folder: look for it, insert it when missing.
  auto ensure_folder = [project_id](Repo& repo) {
    if (repo.FindChild(project_id, std::nullopt, "shared")) return false;
    repo.InsertFile(Folder(project_id, "shared"));
    return true;
  };

  Gate inserted, release;
  std::atomic<int> runs_a{0}, runs_b{0};
  std::atomic<bool> b_inserted{false};
  Jobs jobs{release};
  auto& done_a = jobs.Write(a, [&](Repo& repo) {
    ++runs_a;
    const bool did = ensure_folder(repo);
    inserted.Open();
    release.Wait();  // holds its uncommitted row while b tries the same
    return did;
  });
  ASSERT_TRUE(inserted.Wait());
  auto& done_b = jobs.Write(b, [&](Repo& repo) {
    ++runs_b;
    // The first run misses a's uncommitted row and waits on its insert; the re-run finds it.
    b_inserted = ensure_folder(repo);
    return true;
  });
  // b's insert waits for a's transaction: the race is on.
  ASSERT_TRUE(WaitUntil([&] { return LockWaiters() >= 1; }))
      << "store b's insert never waited for store a's row";
  release.Open();

  auto error_a = Get(done_a);
  auto error_b = Get(done_b);
  EXPECT_FALSE(error_a) << What(error_a);
  EXPECT_FALSE(error_b) << What(error_b);
  EXPECT_EQ(runs_a.load(), 1);
  EXPECT_EQ(runs_b.load(), 2);  // re-run once from its savepoint after the unique violation
  EXPECT_FALSE(b_inserted.load());
  EXPECT_EQ(PgQueryInt(Observer(), "SELECT count(*) FROM files WHERE name = 'shared'"), 1);
  // The usage counter counted the one folder once (the failed insert left no trace).
  EXPECT_EQ(
      PgQueryInt(Observer(), "SELECT file_nodes FROM projects WHERE id = '" + project_id + "'"), 1);
}

TEST_F(StorePgStore, AJobThatKeepsViolatingAUniqueKeyFailsAfterTwoReruns) {
  TopicLog& heard = NewLog();
  PgStore& a = OpenStore(heard);
  Seed seed = MakeSeed();
  Write(a, [&](Repo& repo) {
    Insert(repo, seed);
    repo.InsertFile(Folder(seed.project.id, "taken"));
    return true;
  });
  int runs = 0;
  try {
    Write(a, [&](Repo& repo) {
      ++runs;
      repo.InsertFile(Folder(seed.project.id, "taken"));  // never checks first
      return true;
    });
    ADD_FAILURE() << "the duplicate insert succeeded";
  } catch (const PgError& e) {
    EXPECT_EQ(e.sqlstate, "23505");
  }
  EXPECT_EQ(runs, 3);
  // The store goes on.
  Write(a, AddProject("next"));
  EXPECT_EQ(PgQueryInt(Observer(), "SELECT count(*) FROM files"), 1);
  EXPECT_EQ(PgQueryInt(Observer(), "SELECT count(*) FROM projects"), 2);
}

TEST_F(StorePgStore, ARunReadByOneWriterWaitsWhileTheOtherHoldsIt) {
  TopicLog &heard_a = NewLog(), &heard_b = NewLog();
  PgStore& a = OpenStore(heard_a);
  PgStore& b = OpenStore(heard_b);
  Seed seed = MakeSeed();
  Write(a, [&](Repo& repo) {
    Insert(repo, seed);
    return true;
  });
  const std::string run_id = seed.run.id;

  Gate locked, release;
  std::optional<polaris::Run> seen_by_b;
  Jobs jobs{release};
  auto& done_a = jobs.Write(a, [&](Repo& repo) {
    auto run = repo.GetRun(run_id);  // locks the row until a's batch commits
    if (!run) return false;
    run->attempt = 7;
    run->status = RunStatus::kExecuting;
    repo.UpdateRun(*run);
    locked.Open();
    release.Wait();
    return true;
  });
  ASSERT_TRUE(locked.Wait());
  auto& done_b = jobs.Write(b, [&](Repo& repo) {
    seen_by_b = repo.GetRun(run_id);
    return true;
  });
  ASSERT_TRUE(WaitUntil([&] { return LockWaiters() >= 1; }))
      << "store b's read of the run never waited for store a's lock";
  // Still waiting: it cannot finish before a lets go.
  EXPECT_EQ(done_b.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  release.Open();
  auto error_a = Get(done_a);
  auto error_b = Get(done_b);
  EXPECT_FALSE(error_a) << What(error_a);
  EXPECT_FALSE(error_b) << What(error_b);
  // b read the run as a committed it, not as it was before.
  ASSERT_TRUE(seen_by_b.has_value());
  EXPECT_EQ(seen_by_b->attempt, 7);
  EXPECT_EQ(seen_by_b->status, RunStatus::kExecuting);
}

// Two processes lock two runs in opposite orders: PostgreSQL breaks the deadlock by failing
// one side's statement, and that job runs again in its store's next batch instead of failing.
TEST_F(StorePgStore, ADeadlockVictimRunsAgainInTheNextBatch) {
  TopicLog &heard_a = NewLog(), &heard_b = NewLog();
  PgStore& a = OpenStore(heard_a);
  PgStore& b = OpenStore(heard_b);
  Seed first = MakeSeed(), second = MakeSeed();
  Write(a, [&](Repo& repo) {
    Insert(repo, first);
    Insert(repo, second);
    return true;
  });
  Gate a_locked, b_locked, go_a, go_b, release;
  std::atomic<int> runs_a{0}, runs_b{0};
  // Locks `mine`, says so, waits for `go`, then wants `theirs` too.
  auto crossing = [](const std::string& mine, const std::string& theirs, Gate& locked, Gate& go,
                     std::atomic<int>& runs, int attempt) {
    return [mine, theirs, attempt, locked = &locked, go = &go, runs = &runs](Repo& repo) {
      ++*runs;
      auto run = repo.GetRun(mine);
      locked->Open();
      go->Wait();
      auto other = repo.GetRun(theirs);
      if (!run || !other) return false;
      run->attempt = attempt;
      repo.UpdateRun(*run);
      return true;
    };
  };
  Jobs jobs{release};
  auto& done_a = jobs.Write(a, crossing(first.run.id, second.run.id, a_locked, go_a, runs_a, 1));
  auto& done_b = jobs.Write(b, crossing(second.run.id, first.run.id, b_locked, go_b, runs_b, 2));
  ASSERT_TRUE(a_locked.Wait());
  ASSERT_TRUE(b_locked.Wait());
  go_a.Open();
  ASSERT_TRUE(WaitUntil([&] { return LockWaiters() >= 1; })) << "a never waited for b's lock";
  go_b.Open();  // the cycle: PostgreSQL fails one side after deadlock_timeout (1 s)
  auto error_a = Get(done_a);
  auto error_b = Get(done_b);
  EXPECT_FALSE(error_a) << What(error_a);
  EXPECT_FALSE(error_b) << What(error_b);
  // One side ran once, the victim twice.
  EXPECT_EQ(runs_a + runs_b, 3);
  std::optional<polaris::Run> r1, r2;
  Write(a, [&](Repo& repo) {
    r1 = repo.GetRun(first.run.id);
    r2 = repo.GetRun(second.run.id);
    return false;
  });
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->attempt, 1);
  EXPECT_EQ(r2->attempt, 2);
}

TEST_F(StorePgStore, ReadersDoNotWaitForALockedRun) {
  TopicLog& heard = NewLog();
  PgStore& a = OpenStore(heard);
  Seed seed = MakeSeed();
  Write(a, [&](Repo& repo) {
    Insert(repo, seed);
    return true;
  });
  Gate locked, release;
  std::optional<polaris::Run> seen;
  Jobs jobs{release};
  auto& done_a = jobs.Write(a, [&](Repo& repo) {
    repo.GetRun(seed.run.id);
    locked.Open();
    release.Wait();
    return true;
  });
  ASSERT_TRUE(locked.Wait());
  // A read job of the same store runs on a reader, whose repo does not lock rows.
  auto& read_done = jobs.Read(a, [&](Repo& repo) { seen = repo.GetRun(seed.run.id); });
  ASSERT_EQ(read_done.wait_for(kHangGuard), std::future_status::ready);
  EXPECT_FALSE(read_done.get());
  EXPECT_TRUE(seen.has_value());
  release.Open();
  EXPECT_FALSE(Get(done_a));
}

TEST_F(StorePgStore, OneProcessingMessagePerProjectAcrossStores) {
  TopicLog &heard_a = NewLog(), &heard_b = NewLog();
  PgStore& a = OpenStore(heard_a);
  PgStore& b = OpenStore(heard_b);
  Seed seed = MakeSeed();
  Write(a, [&](Repo& repo) {
    Insert(repo, seed);
    return true;
  });

  // a's insert first, uncommitted; b's waits for it, then sees a's committed and does nothing.
  for (const bool a_keeps : {true, false}) {
    SCOPED_TRACE(a_keeps ? "a commits" : "a rolls back");
    const Message ma = ProcessingMessage(seed), mb = ProcessingMessage(seed);
    Gate inserted, release;
    std::atomic<bool> a_got{false}, b_got{false};
    Jobs jobs{release};
    auto& done_a = jobs.Write(a, [&](Repo& repo) {
      a_got = repo.InsertProcessingMessage(ma);
      inserted.Open();
      release.Wait();
      return a_keeps;
    });
    ASSERT_TRUE(inserted.Wait());
    auto& done_b = jobs.Write(b, [&](Repo& repo) {
      b_got = repo.InsertProcessingMessage(mb);
      return true;
    });
    ASSERT_TRUE(WaitUntil([&] { return LockWaiters() >= 1; }))
        << "store b's insert never waited for store a's";
    release.Open();
    auto error_a = Get(done_a);
    auto error_b = Get(done_b);
    EXPECT_FALSE(error_a) << What(error_a);
    EXPECT_FALSE(error_b) << What(error_b);
    EXPECT_TRUE(a_got.load());
    // Rolled back, a's message never was: b's goes in.
    EXPECT_EQ(b_got.load(), !a_keeps);
    const std::string winner = a_keeps ? ma.id : mb.id;
    EXPECT_EQ(PgQueryInt(Observer(), "SELECT count(*) FROM messages WHERE status = 'processing'"),
              1);
    EXPECT_EQ(PgQueryInt(Observer(), "SELECT count(*) FROM messages WHERE id = '" + winner +
                                         "' AND status = 'processing'"),
              1);
    // Done with it: the next round starts from an idle project.
    Write(a, [](Repo& repo) {
      for (const auto& id : repo.ListProcessingMessages()) {
        auto m = repo.GetMessage(id);
        m->status = MessageStatus::kCompleted;
        repo.UpdateMessage(*m);
      }
      return true;
    });
  }
}

// ---- PgRepo across transactions, on plain connections ----

TEST_F(StorePgStore, TakeExpiredRunsSkipsRunsAnotherTransactionIsTaking) {
  Connection one(database_->uri()), two(database_->uri());
  Migrate(one);
  PgRepo repo_one(one, /*lock_rows=*/true), repo_two(two, /*lock_rows=*/true);
  std::vector<std::string> ids;
  {
    one.Exec("BEGIN");
    Seed seed = MakeSeed();  // its run: queued, never leased, so expired and the oldest
    Insert(repo_one, seed);
    ids.push_back(seed.run.id);
    for (int i = 0; i < 3; ++i) {
      Message m = seed.message;
      m.id = NewId(Table::kMessage);
      repo_one.InsertMessage(m);
      polaris::Run r = seed.run;
      r.id = NewId(Table::kRun);
      r.message_id = m.id;
      r.created_at = 200 + i;
      r.lease_owner = "dead";
      r.lease_expires_at = 10;
      repo_one.InsertRun(r);
      ids.push_back(r.id);
    }
    one.Exec("COMMIT");
  }
  // Skipped means not waited for: a wait would fail here after 2 s instead of hanging.
  two.Exec("SET lock_timeout = '2s'");

  one.Exec("BEGIN");
  auto taken_one = repo_one.TakeExpiredRuns("one", 1000, 7000, 1);
  ASSERT_EQ(taken_one.size(), 1u);
  EXPECT_EQ(taken_one[0].id, ids[0]);
  two.Exec("BEGIN");
  auto taken_two = repo_two.TakeExpiredRuns("two", 1000, 7000, 10);
  std::vector<std::string> got;
  for (const auto& r : taken_two) got.push_back(r.id);
  std::sort(got.begin(), got.end());
  std::vector<std::string> rest(ids.begin() + 1, ids.end());
  std::sort(rest.begin(), rest.end());
  EXPECT_EQ(got, rest);
  one.Exec("COMMIT");
  two.Exec("COMMIT");
  EXPECT_EQ(PgQueryInt(Observer(), "SELECT count(*) FROM runs WHERE lease_owner = 'one'"), 1);
  EXPECT_EQ(PgQueryInt(Observer(), "SELECT count(*) FROM runs WHERE lease_owner = 'two'"), 3);
}

TEST_F(StorePgStore, NotifySqlRunsOnTheServerAndItsPayloadsArrive) {
  Connection listener(database_->uri()), sender(database_->uri());
  listener.Exec("LISTEN polaris_changes");
  std::vector<std::string> topics;
  for (int i = 0; i < 600; ++i) topics.push_back("f:" + NewId(Table::kProject) + "'q");
  std::sort(topics.begin(), topics.end());
  const std::string sql = ChangeFeed::NotifySql("origin:1:ab", topics);
  ASSERT_GT(Payloads(sql).size(), 1u);  // split
  sender.Exec(("BEGIN; " + sql + "COMMIT").c_str());

  std::vector<std::string> arrived;
  const std::size_t expected = Payloads(sql).size();
  ASSERT_TRUE(WaitUntil([&] {
    if (!PQconsumeInput(listener.handle())) return true;  // broken: fail below
    while (PGnotify* n = PQnotifies(listener.handle())) {
      arrived.emplace_back(n->extra);
      PQfreemem(n);
    }
    return arrived.size() >= expected;
  }));
  EXPECT_EQ(arrived, Payloads(sql));
}

}  // namespace
}  // namespace polaris::pg
