#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "domain/ids.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_repo.h"
#include "store_test_util.h"

namespace polaris::sqlite {
namespace {

using store_test::CountRows;
using store_test::TempDir;

// Only guards against a hang; nothing asserts on how long anything takes.
constexpr auto kHangGuard = std::chrono::seconds(120);

class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

class Counter {
 public:
  void Inc() {
    std::lock_guard lock(mu_);
    ++n_;
    cv_.notify_all();
  }
  bool WaitFor(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kHangGuard, [&] { return n_ >= n; });
  }
  int value() {
    std::lock_guard lock(mu_);
    return n_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

// Records, in order, when jobs run and when their done callbacks fire.
class EventLog {
 public:
  void Add(std::string e) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(e));
  }
  std::vector<std::string> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> events_;
};

std::string ExceptionMessage(const std::exception_ptr& e) {
  if (!e) return "";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "non-std exception";
  }
}

Project NewProject(const std::string& owner, const std::string& name = "p", Millis t = 1) {
  return Project{NewId(Table::kProject), t, name, owner, t};
}

class StoreSqliteStore : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_.File("polaris.db"); }

  // Runs a write job and waits for its done callback; returns the reported error.
  static std::exception_ptr WriteSync(Store& store, Store::WriteJob job) {
    Counter done;
    std::exception_ptr err;
    store.SubmitWrite(std::move(job), [&](std::exception_ptr e) {
      err = e;
      done.Inc();
    });
    EXPECT_TRUE(done.WaitFor(1));
    return err;
  }
  static std::exception_ptr ReadSync(Store& store, Store::ReadJob job) {
    Counter done;
    std::exception_ptr err;
    store.SubmitRead(std::move(job), [&](std::exception_ptr e) {
      err = e;
      done.Inc();
    });
    EXPECT_TRUE(done.WaitFor(1));
    return err;
  }
  // Counts rows through a separate connection (after the store committed).
  std::int64_t CountOnDisk(const std::string& table) {
    Database db(DbPath(), false);
    return CountRows(db.handle(), table);
  }

  TempDir dir_;
};

TEST_F(StoreSqliteStore, ConstructorMigratesTheFile) {
  { SqliteStore store(DbPath(), 1); }
  Database db(DbPath(), false);
  EXPECT_GE(SchemaVersion(db), 1);
  const int version = SchemaVersion(db);
  Migrate(db);
  EXPECT_EQ(SchemaVersion(db), version);
  EXPECT_EQ(CountRows(db.handle(), "projects"), 0);
}

TEST_F(StoreSqliteStore, ReadSeesCommittedWrite) {
  SqliteStore store(DbPath(), 2);
  Project p = NewProject("u1", "first");
  EXPECT_FALSE(WriteSync(store, [&](Repo& repo) {
    repo.InsertProject(p);
    return true;
  }));
  // Durable before done: a separate connection sees it.
  EXPECT_EQ(CountOnDisk("projects"), 1);

  std::optional<Project> got;
  EXPECT_FALSE(ReadSync(store, [&](Repo& repo) { got = repo.GetProject(p.id); }));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->name, "first");
  EXPECT_EQ(got->owner_id, "u1");
}

TEST_F(StoreSqliteStore, WriteReturningFalseRollsBack) {
  SqliteStore store(DbPath(), 1);
  Project p = NewProject("u1");
  EXPECT_FALSE(WriteSync(store, [&](Repo& repo) {
    repo.InsertProject(p);
    return false;
  }));
  bool found = true;
  EXPECT_FALSE(ReadSync(store, [&](Repo& repo) { found = repo.GetProject(p.id).has_value(); }));
  EXPECT_FALSE(found);
  EXPECT_EQ(CountOnDisk("projects"), 0);
}

TEST_F(StoreSqliteStore, RollbackAndExceptionsStayInsideTheirJobWithinOneBatch) {
  SqliteStore store(DbPath(), 2);
  Project existing = NewProject("seed");
  ASSERT_FALSE(WriteSync(store, [&](Repo& repo) {
    repo.InsertProject(existing);
    return true;
  }));

  // Hold the writer inside a job so everything submitted meanwhile queues up and is taken as
  // one batch once it lets go.
  Gate started, release;
  EventLog log;
  Counter blocker_done;
  store.SubmitWrite(
      [&](Repo&) {
        started.Open();
        release.Wait();
        return true;
      },
      [&](std::exception_ptr) { blocker_done.Inc(); });
  started.Wait();

  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  constexpr int kJobs = kThreads * kPerThread;
  // Job kinds by index: 0 = keep, 1 = return false, 2 = throw after writing,
  // 3 = SQL error (duplicate primary key) after writing.
  auto kind = [](int i) { return i % 7 == 3 ? 1 : i % 11 == 5 ? 2 : i % 13 == 8 ? 3 : 0; };
  std::vector<Project> projects(kJobs);
  std::vector<Project> extras(kJobs);
  for (int i = 0; i < kJobs; ++i) {
    projects[i] = NewProject("u", "job" + std::to_string(i));
    extras[i] = NewProject("u", "extra" + std::to_string(i));
  }
  std::vector<std::exception_ptr> errors(kJobs);
  Counter done;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        int i = t * kPerThread + k;
        store.SubmitWrite(
            [&, i](Repo& repo) {
              log.Add("job");
              repo.InsertProject(projects[i]);
              repo.InsertProject(extras[i]);
              switch (kind(i)) {
                case 1:
                  return false;
                case 2:
                  throw std::runtime_error("job " + std::to_string(i) + " failed");
                case 3:
                  repo.InsertProject(existing);
                  return true;  // throws SqliteError
                default:
                  return true;
              }
            },
            [&, i](std::exception_ptr e) {
              log.Add("done");
              errors[i] = e;
              done.Inc();
            });
      }
    });
  }
  for (auto& t : threads) t.join();
  release.Open();
  ASSERT_TRUE(done.WaitFor(kJobs));
  ASSERT_TRUE(blocker_done.WaitFor(1));

  // One batch: every job ran before any done callback (which follow the commit).
  auto events = log.events();
  ASSERT_EQ(events.size(), static_cast<std::size_t>(2 * kJobs));
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(events[i], "job") << i;
  for (int i = kJobs; i < 2 * kJobs; ++i) EXPECT_EQ(events[i], "done") << i;

  int kept = 0;
  std::vector<int> kinds_seen(4);
  for (int i = 0; i < kJobs; ++i) ++kinds_seen[kind(i)];
  for (int k = 0; k < 4; ++k) ASSERT_GT(kinds_seen[k], 0) << "kind " << k;
  for (int i = 0; i < kJobs; ++i) {
    switch (kind(i)) {
      case 0:
      case 1:
        EXPECT_FALSE(errors[i]) << i << ": " << ExceptionMessage(errors[i]);
        break;
      case 2:
        ASSERT_TRUE(errors[i]) << i;
        EXPECT_EQ(ExceptionMessage(errors[i]), "job " + std::to_string(i) + " failed");
        break;
      case 3: {
        ASSERT_TRUE(errors[i]) << i;
        bool is_sqlite_error = false;
        try {
          std::rethrow_exception(errors[i]);
        } catch (const SqliteError&) {
          is_sqlite_error = true;
        } catch (...) {
        }
        EXPECT_TRUE(is_sqlite_error) << ExceptionMessage(errors[i]);
        break;
      }
    }
    if (kind(i) == 0) ++kept;
  }
  ASSERT_GT(kept, 0);
  ASSERT_LT(kept, kJobs);

  std::vector<bool> present(kJobs), extra_present(kJobs);
  std::optional<Project> seed;
  ASSERT_FALSE(ReadSync(store, [&](Repo& repo) {
    for (int i = 0; i < kJobs; ++i) {
      present[i] = repo.GetProject(projects[i].id).has_value();
      extra_present[i] = repo.GetProject(extras[i].id).has_value();
    }
    seed = repo.GetProject(existing.id);
  }));
  for (int i = 0; i < kJobs; ++i) {
    EXPECT_EQ(present[i], kind(i) == 0) << "job " << i << " kind " << kind(i);
    EXPECT_EQ(extra_present[i], kind(i) == 0) << "job " << i << " kind " << kind(i);
  }
  ASSERT_TRUE(seed.has_value());
  EXPECT_EQ(seed->owner_id, "seed");
  EXPECT_EQ(CountOnDisk("projects"), 1 + 2 * kept);
}

// Relaxed writes (streamed content) commit like durable ones, alone or batched with them;
// only the fsync differs, which a test cannot see, so this checks what must not change.
TEST_F(StoreSqliteStore, RelaxedWritesCommitAloneAndMixedWithDurableOnes) {
  SqliteStore store(DbPath(), 1);
  Counter done;
  std::vector<std::exception_ptr> errors(3);
  Project relaxed_alone = NewProject("u", "relaxed-alone");
  store.SubmitWrite(
      [&](Repo& repo) {
        repo.InsertProject(relaxed_alone);
        return true;
      },
      [&](std::exception_ptr e) {
        errors[0] = e;
        done.Inc();
      },
      Store::Durability::kRelaxed);
  ASSERT_TRUE(done.WaitFor(1));
  EXPECT_FALSE(errors[0]);
  EXPECT_EQ(CountOnDisk("projects"), 1);  // committed: another connection sees it

  // One batch: a durable write between a relaxed one that keeps and one that rolls back.
  Gate started, release;
  store.SubmitWrite(
      [&](Repo&) {
        started.Open();
        release.Wait();
        return true;
      },
      [&](std::exception_ptr) { done.Inc(); });
  started.Wait();
  Project relaxed = NewProject("u", "relaxed"), durable = NewProject("u", "durable"),
          dropped = NewProject("u", "dropped");
  auto submit = [&](const Project& p, bool keep, Store::Durability d, int slot) {
    store.SubmitWrite(
        [&p, keep](Repo& repo) {
          repo.InsertProject(p);
          return keep;
        },
        [&errors, &done, slot](std::exception_ptr e) {
          errors[slot] = e;
          done.Inc();
        },
        d);
  };
  submit(relaxed, true, Store::Durability::kRelaxed, 0);
  submit(durable, true, Store::Durability::kDurable, 1);
  submit(dropped, false, Store::Durability::kRelaxed, 2);
  release.Open();
  ASSERT_TRUE(done.WaitFor(5));
  for (const auto& e : errors) EXPECT_FALSE(e) << ExceptionMessage(e);
  EXPECT_EQ(CountOnDisk("projects"), 3);
  bool has_dropped = true;
  EXPECT_FALSE(
      ReadSync(store, [&](Repo& repo) { has_dropped = repo.GetProject(dropped.id).has_value(); }));
  EXPECT_FALSE(has_dropped);

  // And the writer goes back to durable commits afterwards.
  Project later = NewProject("u", "later");
  EXPECT_FALSE(WriteSync(store, [&](Repo& repo) {
    repo.InsertProject(later);
    return true;
  }));
  EXPECT_EQ(CountOnDisk("projects"), 4);
}

// Long reads (the agent's searches) have their own reader: while one is still running, and
// more wait behind it, every reader of requests is free.
TEST_F(StoreSqliteStore, BackgroundReadsNeverHoldUpOtherReads) {
  SqliteStore store(DbPath(), 1);
  Gate release;
  Counter background_started, background_done;
  for (int i = 0; i < 3; ++i) {
    store.SubmitBackgroundRead(
        [&](Repo&) {
          background_started.Inc();
          release.Wait();
        },
        [&](std::exception_ptr) { background_done.Inc(); });
  }
  ASSERT_TRUE(background_started.WaitFor(1));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(ReadSync(store, [](Repo& repo) { repo.ListProjects("nobody", 10); }), nullptr);
  }
  EXPECT_EQ(background_started.value(), 1);  // the others wait for the first, in order
  release.Open();
  ASSERT_TRUE(background_done.WaitFor(3));
}

TEST_F(StoreSqliteStore, ReadJobErrorsAreReported) {
  SqliteStore store(DbPath(), 1);
  auto err = ReadSync(store, [](Repo&) { throw std::runtime_error("read failed"); });
  EXPECT_EQ(ExceptionMessage(err), "read failed");
  // Reader connections cannot write.
  err = ReadSync(store, [](Repo& repo) { repo.InsertProject(NewProject("u1")); });
  ASSERT_TRUE(err);
  bool is_sqlite_error = false;
  try {
    std::rethrow_exception(err);
  } catch (const SqliteError&) {
    is_sqlite_error = true;
  } catch (...) {
  }
  EXPECT_TRUE(is_sqlite_error);
  EXPECT_EQ(CountOnDisk("projects"), 0);
  // The reader keeps working afterwards.
  bool ran = false;
  EXPECT_FALSE(ReadSync(store, [&](Repo& repo) { ran = repo.ListProjects("u1", -1).empty(); }));
  EXPECT_TRUE(ran);
}

TEST_F(StoreSqliteStore, CloseDrainsQueuedJobsAndDataPersists) {
  constexpr int kWrites = 300;
  constexpr int kReaders = 2;
  constexpr int kReads = 40;
  Counter write_done, read_done, blockers_started;
  std::atomic<int> write_errors{0}, read_errors{0};
  std::atomic<int> writes_ran{0}, reads_ran{0};
  std::vector<std::string> ids;
  {
    SqliteStore store(DbPath(), kReaders);
    Gate release;
    // Occupy the writer and every reader so the jobs below are still queued at Close().
    store.SubmitWrite(
        [&](Repo&) {
          blockers_started.Inc();
          release.Wait();
          return true;
        },
        nullptr);
    for (int r = 0; r < kReaders; ++r) {
      store.SubmitRead(
          [&](Repo&) {
            blockers_started.Inc();
            release.Wait();
          },
          nullptr);
    }
    ASSERT_TRUE(blockers_started.WaitFor(1 + kReaders));
    for (int i = 0; i < kWrites; ++i) {
      Project p = NewProject("closer", "p" + std::to_string(i));
      ids.push_back(p.id);
      store.SubmitWrite(
          [&, p](Repo& repo) {
            ++writes_ran;
            repo.InsertProject(p);
            return true;
          },
          [&](std::exception_ptr e) {
            if (e) ++write_errors;
            write_done.Inc();
          });
    }
    for (int i = 0; i < kReads; ++i) {
      store.SubmitRead(
          [&](Repo& repo) {
            ++reads_ran;
            (void)repo.ListProjects("closer", 1);
          },
          [&](std::exception_ptr e) {
            if (e) ++read_errors;
            read_done.Inc();
          });
    }
    EXPECT_EQ(write_done.value(), 0);
    release.Open();
    store.Close();
    // Everything finished before Close returned: no waiting needed.
    EXPECT_EQ(write_done.value(), kWrites);
    EXPECT_EQ(read_done.value(), kReads);
    EXPECT_EQ(writes_ran.load(), kWrites);
    EXPECT_EQ(reads_ran.load(), kReads);
    EXPECT_EQ(write_errors.load(), 0);
    EXPECT_EQ(read_errors.load(), 0);
    store.Close();  // idempotent; the destructor closes a third time
  }
  EXPECT_EQ(CountOnDisk("projects"), kWrites);

  SqliteStore reopened(DbPath(), 1);
  std::vector<Project> listed;
  std::size_t found = 0;
  ASSERT_FALSE(ReadSync(reopened, [&](Repo& repo) {
    listed = repo.ListProjects("closer", -1);
    for (const auto& id : ids) found += repo.GetProject(id).has_value();
  }));
  EXPECT_EQ(listed.size(), static_cast<std::size_t>(kWrites));
  EXPECT_EQ(found, static_cast<std::size_t>(kWrites));
  // And it still accepts writes.
  EXPECT_FALSE(WriteSync(reopened, [](Repo& repo) {
    repo.InsertProject(NewProject("closer"));
    return true;
  }));
  reopened.Close();
  EXPECT_EQ(CountOnDisk("projects"), kWrites + 1);
}

TEST_F(StoreSqliteStore, DestructorDrainsLikeClose) {
  constexpr int kWrites = 50;
  Counter done;
  {
    SqliteStore store(DbPath(), 1);
    for (int i = 0; i < kWrites; ++i) {
      store.SubmitWrite(
          [](Repo& repo) {
            repo.InsertProject(NewProject("d"));
            return true;
          },
          [&](std::exception_ptr) { done.Inc(); });
    }
  }
  EXPECT_EQ(done.value(), kWrites);
  EXPECT_EQ(CountOnDisk("projects"), kWrites);
}

TEST_F(StoreSqliteStore, ManyConcurrentWritersAllLand) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  SqliteStore store(DbPath(), 2);
  Counter done;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string owner = "writer" + std::to_string(t);
      for (int k = 0; k < kPerThread; ++k) {
        Project p = NewProject(owner, "p" + std::to_string(k), k);
        store.SubmitWrite(
            [p](Repo& repo) {
              repo.InsertProject(p);
              return true;
            },
            [&](std::exception_ptr e) {
              if (e) ++errors;
              done.Inc();
            });
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(done.WaitFor(kThreads * kPerThread));
  EXPECT_EQ(errors.load(), 0);

  std::vector<std::size_t> per_owner(kThreads);
  ASSERT_FALSE(ReadSync(store, [&](Repo& repo) {
    for (int t = 0; t < kThreads; ++t) {
      per_owner[t] = repo.ListProjects("writer" + std::to_string(t), -1).size();
    }
  }));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(per_owner[t], static_cast<std::size_t>(kPerThread)) << "writer" << t;
  }
  EXPECT_EQ(CountOnDisk("projects"), kThreads * kPerThread);
}

TEST_F(StoreSqliteStore, ConcurrentReadsAndWrites) {
  // Readers run beside the writer and always see a consistent count of whole jobs: every
  // write inserts two projects, so a snapshot never sees an odd number.
  constexpr int kWrites = 200;
  constexpr int kReads = 200;
  SqliteStore store(DbPath(), 3);
  Counter done;
  std::atomic<int> errors{0}, odd{0};
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      store.SubmitWrite(
          [](Repo& repo) {
            repo.InsertProject(NewProject("pair"));
            repo.InsertProject(NewProject("pair"));
            return true;
          },
          [&](std::exception_ptr e) {
            if (e) ++errors;
            done.Inc();
          });
    }
  });
  std::thread reader([&] {
    for (int i = 0; i < kReads; ++i) {
      store.SubmitRead(
          [&](Repo& repo) {
            if (repo.ListProjects("pair", -1).size() % 2 != 0) ++odd;
          },
          [&](std::exception_ptr e) {
            if (e) ++errors;
            done.Inc();
          });
    }
  });
  writer.join();
  reader.join();
  ASSERT_TRUE(done.WaitFor(kWrites + kReads));
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(odd.load(), 0);
  store.Close();
  EXPECT_EQ(CountOnDisk("projects"), 2 * kWrites);
}

}  // namespace
}  // namespace polaris::sqlite
