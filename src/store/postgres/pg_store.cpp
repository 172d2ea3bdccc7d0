#include "store/postgres/pg_store.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "domain/log.h"
#include "domain/run_lease.h"
#include "store/postgres/pg_change_feed.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_repo.h"

namespace polaris::pg {
namespace {

// Upper bound of writes per transaction: keeps one batch's latency bounded under load.
constexpr std::size_t kMaxBatch = 512;
// How often a job that lost a unique-key race to another process runs again.
constexpr int kUniqueRetries = 2;
// How often a job that lost a deadlock to another process waits for the next batch.
constexpr int kMaxDeferrals = 3;
constexpr auto kMinBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxBackoff = std::chrono::milliseconds(2000);

// Each job runs inside the savepoint `job`; the statements that open the next one and close
// the last travel together, so a job costs one extra round trip, not two.
constexpr const char* kBeginDurable = "BEGIN; SAVEPOINT job";
// Relaxed: COMMIT returns before the WAL is flushed (a crash of the server, not of Polaris,
// may lose it); the next durable commit flushes it, since the WAL is one sequence.
constexpr const char* kBeginRelaxed = "BEGIN; SET LOCAL synchronous_commit = off; SAVEPOINT job";
constexpr const char* kNextJob = "RELEASE job; SAVEPOINT job";
constexpr const char* kRollbackJob = "ROLLBACK TO job";
// One snapshot for the whole read job.
constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// Brings a broken connection back before a thread's next job. While the server stays away
// it tries once per backoff step (50 ms doubling to 2 s) and fails the jobs in between at
// once, rather than making each wait for a connect attempt.
class Link {
 public:
  explicit Link(Connection& db) : db_(db) {}
  // Throws PgError (unavailable) while the connection cannot be restored.
  void Ensure() {
    if (db_.ok()) return;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_try_) throw PgError("", "postgres: connection lost; reconnecting", true);
    try {
      db_.Reset();
      backoff_ = kMinBackoff;
    } catch (...) {
      next_try_ = now + backoff_;
      backoff_ = std::min<std::chrono::milliseconds>(backoff_ * 2, kMaxBackoff);
      throw;
    }
  }
  // Opens a transaction. A connection found dead here (the server restarted while it was
  // idle) is restored and the statement tried once more: no job has run yet.
  void Begin(const char* sql) {
    Ensure();
    // BEGIN inside a transaction is only a warning: never let a job join a leftover one.
    if (db_.transaction_status() != PQTRANS_IDLE) db_.Exec("ROLLBACK");
    try {
      db_.Exec(sql);
    } catch (const PgError&) {
      if (db_.ok()) throw;
      Ensure();
      db_.Exec(sql);
    }
  }

 private:
  Connection& db_;
  std::chrono::steady_clock::time_point next_try_{};
  std::chrono::milliseconds backoff_ = kMinBackoff;
};

// Ends whatever transaction a failure left open; a dead connection has none.
void RollbackQuietly(Connection& db) {
  if (!db.ok() || db.transaction_status() == PQTRANS_IDLE) return;
  try {
    db.Exec("ROLLBACK");
  } catch (const std::exception&) {
  }
}

// `before`: statements that travel with the COMMIT (the change feed's NOTIFYs).
void Commit(Connection& db, std::string before = {}) {
  before += "COMMIT";
  // PostgreSQL answers COMMIT of a failed transaction with a ROLLBACK, not an error.
  if (db.Exec(before.c_str()).command() != "COMMIT") {
    throw PgError("", "postgres: the transaction was rolled back", false);
  }
}

}  // namespace

PgStore::PgStore(const std::string& conninfo, int reader_threads, int writer_threads)
    : conninfo_(conninfo), origin_(NewProcessName()) {
  reader_threads = std::max(reader_threads, 1);  // reads would never run without one
  writer_threads = std::max(writer_threads, 1);
  connections_.push_back(std::make_unique<Connection>(conninfo));
  Migrate(*connections_.front());
  for (int i = 1; i < writer_threads + reader_threads + 1; ++i) {
    connections_.push_back(std::make_unique<Connection>(conninfo));
  }
  for (int i = 0; i < writer_threads; ++i) {
    Connection& db = *connections_[static_cast<std::size_t>(i)];
    writers_.emplace_back([this, &db] { WriterLoop(db); });
  }
  for (int i = 0; i < reader_threads; ++i) {
    Connection& db = *connections_[static_cast<std::size_t>(writer_threads + i)];
    readers_.emplace_back([this, &db] { ReaderLoop(db, JobQueues::Reads::kShort); });
  }
  // One thread for long reads: they queue behind each other, never in front of a request's.
  // It runs at a lower CPU priority (Linux nice is per thread), so on a busy machine the
  // network threads and the writer get a core first.
  Connection& background = *connections_.back();
  background_reader_ = std::thread([this, &background] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
    ReaderLoop(background, JobQueues::Reads::kBackground);
  });
}

PgStore::~PgStore() {
  Close();
}

void PgStore::SetCommitListener(CommitListener listener) {
  listener_ = std::move(listener);
  feed_ = std::make_unique<ChangeFeed>(conninfo_, origin_, listener_);
}

void PgStore::Close() {
  {
    std::lock_guard lock(close_mu_);
    if (closed_) return;
    closed_ = true;
  }
  queues_.Close();
  feed_.reset();  // no more news from the other processes
  for (auto& t : writers_) {
    if (t.joinable()) t.join();
  }
  for (auto& t : readers_) {
    if (t.joinable()) t.join();
  }
  if (background_reader_.joinable()) background_reader_.join();
  connections_.clear();
}

void PgStore::SubmitRead(ReadJob job, Done done) {
  queues_.PushRead(JobQueues::Reads::kShort, {std::move(job), std::move(done)});
}

void PgStore::SubmitBackgroundRead(ReadJob job, Done done) {
  queues_.PushRead(JobQueues::Reads::kBackground, {std::move(job), std::move(done)});
}

void PgStore::SubmitWrite(WriteJob job, Done done, Durability durability) {
  queues_.PushWrite({std::move(job), std::move(done), durability});
}

void PgStore::WriterLoop(Connection& db) {
  PgRepo repo(db, /*lock_rows=*/true);
  Link link(db);
  std::vector<Write> batch;
  std::vector<std::exception_ptr> errors;
  std::vector<char> deferred;
  std::vector<std::string> topics;
  while (queues_.TakeWrites(batch, kMaxBatch)) {
    errors.assign(batch.size(), nullptr);
    deferred.assign(batch.size(), 0);
    std::exception_ptr commit_error;
    try {
      // Only a batch holding a durable write waits for the WAL flush. Its flush also covers
      // every relaxed batch before it.
      const bool durable = std::any_of(batch.begin(), batch.end(), [](const Write& w) {
        return w.durability == Durability::kDurable;
      });
      link.Begin(durable ? kBeginDurable : kBeginRelaxed);
      RunBatch(db, repo, batch, errors, deferred, topics);
    } catch (...) {
      commit_error = std::current_exception();
      LogWarn("write batch failed", {{"jobs", static_cast<long long>(batch.size())},
                                     {"error", DescribeException(commit_error)}});
      RollbackQuietly(db);
    }
    if (!commit_error && listener_ && !topics.empty()) listener_(std::move(topics));
    std::vector<Write> again;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (deferred[i] && !commit_error) {
        again.push_back(std::move(batch[i]));
        continue;
      }
      if (batch[i].done) batch[i].done(commit_error ? commit_error : errors[i]);
    }
    // Now that this batch committed, the lock the job waited for behind the other process's
    // transaction is free once that one commits: first in line for the next batch.
    for (auto& w : again) ++w.deferrals;
    queues_.PushWritesFront(std::move(again));
    batch.clear();
    topics.clear();
  }
}

void PgStore::RunBatch(Connection& db, PgRepo& repo, std::vector<Write>& batch,
                       std::vector<std::exception_ptr>& errors, std::vector<char>& deferred,
                       std::vector<std::string>& topics) {
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i > 0) db.Exec(kNextJob);
    // A savepoint per job: one failing job rolls back alone, the batch still commits.
    bool keep = false;
    for (int tries = 0;; ++tries) {
      try {
        keep = batch[i].job(repo);
      } catch (const PgError& e) {
        // Another process inserted the same unique key (a folder both create, say) and
        // committed while this insert waited for it: run the job again from its savepoint, it
        // now sees that row and takes its "already there" path.
        // Likewise a foreign-key violation (23503): another process or writer deleted the
        // parent (a folder) this job inserts under, and committed while the insert waited;
        // run again, the job no longer finds the parent and takes its "missing" path.
        if ((e.sqlstate == "23505" || e.sqlstate == "23503") && tries < kUniqueRetries) {
          repo.TakeChangedTopics();
          db.Exec(kRollbackJob);
          continue;
        }
        // Chosen as a deadlock's victim: the other transaction waits on a lock this batch
        // holds, maybe from an earlier job, so running the job again in this transaction
        // would meet the same cycle. It runs again in the next batch instead.
        if (e.sqlstate == "40P01" && batch[i].deferrals < kMaxDeferrals) {
          deferred[i] = 1;
          break;
        }
        errors[i] = std::current_exception();
      } catch (...) {
        errors[i] = std::current_exception();
      }
      break;
    }
    auto changed = repo.TakeChangedTopics();
    // A job that caught a failed statement and went on cannot keep its changes: unlike
    // SQLite, PostgreSQL aborts the transaction up to the savepoint.
    if (keep && db.transaction_status() == PQTRANS_INERROR) {
      keep = false;
      errors[i] = std::make_exception_ptr(
          PgError("25P02", "postgres: a statement of the write job failed", false));
    }
    if (keep) {
      topics.insert(topics.end(), std::make_move_iterator(changed.begin()),
                    std::make_move_iterator(changed.end()));
    } else {
      db.Exec(kRollbackJob);
    }
  }
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  // The other processes hear of this batch when, and only if, it commits.
  Commit(db, ChangeFeed::NotifySql(origin_, topics));
}

void PgStore::ReaderLoop(Connection& db, JobQueues::Reads which) {
  PgRepo repo(db);
  Link link(db);
  while (auto next = queues_.TakeRead(which)) {
    JobQueues::Read& r = *next;
    std::exception_ptr error;
    try {
      link.Begin(kBeginRead);
      try {
        r.job(repo);
      } catch (...) {
        error = std::current_exception();
      }
      db.Exec("COMMIT");
    } catch (...) {
      if (!error) error = std::current_exception();
      RollbackQuietly(db);
    }
    if (r.done) r.done(error);
  }
}

}  // namespace polaris::pg
