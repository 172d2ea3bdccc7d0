#pragma once
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/job_queues.h"
#include "store/store.h"

namespace polaris::pg {

class ChangeFeed;
class Connection;
class PgRepo;

// PostgreSQL behind the Store interface, shaped like SqliteStore: writer threads with group
// commit (one, or a few: PostgreSQL keeps concurrent transactions apart) and a few reader
// threads, each with its own connection. A thread whose
// connection breaks fails the jobs it was running as unavailable and reconnects before its
// next job; the process never exits over it. The commit listener hears this process's
// commits and, through the change feed (LISTEN/NOTIFY), those of the other processes sharing
// the database.
class PgStore final : public Store {
 public:
  // Connects (conninfo: a postgres:// URI or "key=value" string), applies migrations, opens
  // every thread's connection and starts the threads. Throws PgError on failure.
  // writer_threads: writers taking batches from one queue, each with its own connection and
  // transaction (the database keeps them apart, as it keeps processes apart).
  PgStore(const std::string& conninfo, int reader_threads, int writer_threads = 1);
  ~PgStore() override;

  // Also starts listening to the other processes' commits (throws PgError if it cannot).
  void SetCommitListener(CommitListener listener) override;
  void SubmitRead(ReadJob job, Done done) override;
  void SubmitBackgroundRead(ReadJob job, Done done) override;
  void SubmitWrite(WriteJob job, Done done, Durability durability = Durability::kDurable) override;
  void Close() override;

 private:
  using Write = JobQueues::Write;
  void WriterLoop(Connection& db);
  // Runs the batch in one transaction and commits it: errors[i] gets what job i threw, topics
  // what the kept jobs changed, deferred[i] whether job i lost a deadlock and must run again
  // in the next batch. Throws when the transaction itself fails.
  void RunBatch(Connection& db, PgRepo& repo, std::vector<Write>& batch,
                std::vector<std::exception_ptr>& errors, std::vector<char>& deferred,
                std::vector<std::string>& topics);
  // Serves `queue` (woken by `cv`) until the store closes.
  void ReaderLoop(Connection& db, JobQueues::Reads which);

  const std::string conninfo_;
  const std::string origin_;  // names this process in the change feed
  CommitListener listener_;
  std::unique_ptr<ChangeFeed> feed_;
  JobQueues queues_;
  std::mutex close_mu_;
  bool closed_ = false;
  // One per thread, opened by the constructor (so a server that is down or full fails the
  // start) and closed once the threads have stopped.
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::thread> writers_;
  std::vector<std::thread> readers_;
  std::thread background_reader_;
};

}  // namespace polaris::pg
