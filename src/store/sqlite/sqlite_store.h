#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
  struct Write {
    WriteJob job;
    Done done;
    Durability durability = Durability::kDurable;
  };
  struct Read {
    ReadJob job;
    Done done;
  };
  void WriterLoop();
  // Serves `queue` (woken by `cv`) until the store closes.
  void ReaderLoop(std::deque<Read>& queue, std::condition_variable& cv);
  void CheckpointLoop();

  std::string path_;
  CommitListener listener_;
  std::mutex mu_;
  std::condition_variable write_cv_, read_cv_, background_cv_, checkpoint_cv_;
  std::deque<Write> writes_;
  std::deque<Read> reads_;
  std::deque<Read> background_reads_;
  bool closing_ = false;
  std::atomic<std::uint64_t> commits_{0};  // batches committed, for idle detection
  std::thread writer_;
  std::thread checkpointer_;
  std::vector<std::thread> readers_;
  std::thread background_reader_;
};

}  // namespace polaris::sqlite
