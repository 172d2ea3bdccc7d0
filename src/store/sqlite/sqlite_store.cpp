#include "store/sqlite/sqlite_store.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "domain/log.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_repo.h"

namespace polaris::sqlite {
namespace {
// Upper bound of writes per transaction: keeps one batch's latency bounded under load.
constexpr std::size_t kMaxBatch = 512;
constexpr auto kCheckpointInterval = std::chrono::milliseconds(200);
constexpr int kIdleRoundsBeforeTruncate = 10;  // 2 s without a commit
}  // namespace

SqliteStore::SqliteStore(const std::string& path, int reader_threads) : path_(path) {
  {
    Database db(path_, false);
    Migrate(db);
  }
  writer_ = std::thread([this] { WriterLoop(); });
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
  for (int i = 0; i < reader_threads; ++i) {
    readers_.emplace_back([this] { ReaderLoop(JobQueues::Reads::kShort); });
  }
  // One thread for long reads: they queue behind each other, never in front of a request's.
  // It runs at a lower CPU priority (Linux nice is per thread), so on a busy machine the
  // network threads and the writer get a core first.
  background_reader_ = std::thread([this] {
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
    ReaderLoop(JobQueues::Reads::kBackground);
  });
}

SqliteStore::~SqliteStore() {
  Close();
}

void SqliteStore::Close() {
  {
    std::lock_guard lock(checkpoint_mu_);
    if (closed_) return;
    closed_ = true;
    stop_checkpoints_ = true;
  }
  queues_.Close();
  checkpoint_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (checkpointer_.joinable()) checkpointer_.join();
  for (auto& t : readers_) {
    if (t.joinable()) t.join();
  }
  if (background_reader_.joinable()) background_reader_.join();
}

void SqliteStore::SubmitRead(ReadJob job, Done done) {
  queues_.PushRead(JobQueues::Reads::kShort, {std::move(job), std::move(done)});
}

void SqliteStore::SubmitBackgroundRead(ReadJob job, Done done) {
  queues_.PushRead(JobQueues::Reads::kBackground, {std::move(job), std::move(done)});
}

void SqliteStore::SubmitWrite(WriteJob job, Done done, Durability durability) {
  queues_.PushWrite({std::move(job), std::move(done), durability});
}

void SqliteStore::WriterLoop() {
  Database db(path_, false);
  // Checkpoints run on their own thread (CheckpointLoop), not inside this writer's commits,
  // where they would stall every write waiting on the batch.
  db.Exec("PRAGMA wal_autocheckpoint=0");
  SqliteRepo repo(db);
  bool synced = true;  // the connection opens with synchronous=FULL
  std::vector<JobQueues::Write> batch;
  std::vector<std::exception_ptr> errors;
  std::vector<std::string> topics;
  while (queues_.TakeWrites(batch, kMaxBatch)) {
    errors.assign(batch.size(), nullptr);
    std::exception_ptr commit_error;
    try {
      // Only a batch holding a durable write pays for an fsync. Its sync also covers every
      // relaxed batch before it: the WAL is one append-only file.
      const bool sync = std::any_of(batch.begin(), batch.end(), [](const JobQueues::Write& w) {
        return w.durability == Durability::kDurable;
      });
      if (sync != synced) {
        db.Run(sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        synced = sync;
      }
      db.Run("BEGIN IMMEDIATE");
      for (std::size_t i = 0; i < batch.size(); ++i) {
        // A savepoint per job: one failing job rolls back alone, the batch still commits.
        db.Run("SAVEPOINT job");
        bool keep = false;
        try {
          keep = batch[i].job(repo);
        } catch (...) {
          errors[i] = std::current_exception();
        }
        auto changed = repo.TakeChangedTopics();
        if (keep) {
          topics.insert(topics.end(), std::make_move_iterator(changed.begin()),
                        std::make_move_iterator(changed.end()));
        } else {
          db.Run("ROLLBACK TO job");
        }
        db.Run("RELEASE job");
      }
      db.Run("COMMIT");
      ++commits_;
    } catch (...) {
      commit_error = std::current_exception();
      LogWarn("write batch failed", {{"jobs", static_cast<long long>(batch.size())},
                                     {"error", DescribeException(commit_error)}});
      try {
        db.Exec("ROLLBACK");
      } catch (...) {
      }
    }
    if (!commit_error && listener_ && !topics.empty()) {
      std::sort(topics.begin(), topics.end());
      topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
      listener_(std::move(topics));
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) batch[i].done(commit_error ? commit_error : errors[i]);
    }
    batch.clear();
    topics.clear();
  }
}

// Copies committed WAL frames into the database file in the background (PASSIVE: never
// blocks the writer or readers), so the WAL stays small without the writer paying for it.
// Once writes have been idle for a while, a TRUNCATE checkpoint gives the WAL's disk back
// (journal_size_limit only cuts it when a writer restarts the log).
void SqliteStore::CheckpointLoop() {
  Database db(path_, false);
  db.SetBusyTimeout(100);  // never keep writers waiting behind a truncation for long
  std::uint64_t seen = commits_.load();
  int idle_rounds = 0;
  bool truncated = true;
  std::unique_lock lock(checkpoint_mu_);
  while (!stop_checkpoints_) {
    checkpoint_cv_.wait_for(lock, kCheckpointInterval);
    if (stop_checkpoints_) break;
    lock.unlock();
    const std::uint64_t now = commits_.load();
    idle_rounds = now == seen ? idle_rounds + 1 : 0;
    if (now != seen) truncated = false;
    seen = now;
    try {
      if (!truncated && idle_rounds >= kIdleRoundsBeforeTruncate) {
        db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
        truncated = true;
      } else {
        db.Exec("PRAGMA wal_checkpoint(PASSIVE)");
      }
    } catch (const std::exception& e) {
      // Busy or I/O trouble: the next round tries again; the WAL keeps the data meanwhile.
      LogWarn("sqlite checkpoint failed; retrying", {{"error", e.what()}});
    }
    lock.lock();
  }
  lock.unlock();
  try {
    db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");  // leave a small WAL behind at shutdown
  } catch (const std::exception& e) {
    LogWarn("sqlite checkpoint at shutdown failed; the WAL stays", {{"error", e.what()}});
  }
}

void SqliteStore::ReaderLoop(JobQueues::Reads which) {
  Database db(path_, false);
  db.Exec("PRAGMA query_only=ON");
  SqliteRepo repo(db);
  while (auto next = queues_.TakeRead(which)) {
    JobQueues::Read& r = *next;
    std::exception_ptr error;
    try {
      db.Run("BEGIN");  // one snapshot for the whole job
      try {
        r.job(repo);
      } catch (...) {
        error = std::current_exception();
      }
      db.Run("COMMIT");
    } catch (...) {
      if (!error) error = std::current_exception();
    }
    if (r.done) r.done(error);
  }
}

}  // namespace polaris::sqlite
