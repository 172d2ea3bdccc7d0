#pragma once
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/job_queues.h"
#include "store/store.h"

namespace polaris::sqlite {

// SQLite behind the Store interface: one writer thread with group commit and a few reader
// threads, each with its own connection (WAL lets readers run beside the writer).
class SqliteStore final : public Store {
 public:
  // Opens the file, applies migrations and starts the threads. Throws on failure.
  SqliteStore(const std::string& path, int reader_threads);
  ~SqliteStore() override;

  void SetCommitListener(CommitListener listener) override { listener_ = std::move(listener); }
  void SubmitRead(ReadJob job, Done done) override;
  void SubmitBackgroundRead(ReadJob job, Done done) override;
  void SubmitWrite(WriteJob job, Done done, Durability durability = Durability::kDurable) override;
  void Close() override;

 private:
  void WriterLoop();
  void ReaderLoop(JobQueues::Reads which);
  void CheckpointLoop();

  std::string path_;
  CommitListener listener_;
  JobQueues queues_;
  std::atomic<std::uint64_t> commits_{0};  // batches committed, for idle detection
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool stop_checkpoints_ = false;
  bool closed_ = false;  // Close() ran (it joins the threads once)
  std::thread writer_;
  std::thread checkpointer_;
  std::vector<std::thread> readers_;
  std::thread background_reader_;
};

}  // namespace polaris::sqlite
