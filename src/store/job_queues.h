#pragma once
// The queues both stores serve, and how their threads wait on them: writes taken in batches by
// the writer thread(s), short reads by the reader threads, long reads by the background
// reader. Thread-safe. Closing wakes every waiter; jobs already queued are still served.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "store/store.h"

namespace polaris {

class JobQueues {
 public:
  struct Write {
    Store::WriteJob job;
    Store::Done done;
    Store::Durability durability = Store::Durability::kDurable;
    int deferrals = 0;  // times it was put back for a later batch (a lost deadlock)
  };
  struct Read {
    Store::ReadJob job;
    Store::Done done;
  };
  enum class Reads { kShort, kBackground };

  void PushWrite(Write w);
  // Puts writes back at the head of the queue, in their order (they run first next time).
  void PushWritesFront(std::vector<Write> writes);
  void PushRead(Reads which, Read r);
  // Waits for writes and moves up to `max` of them into `batch` (in order); false once the
  // queues are closed and no write is left.
  bool TakeWrites(std::vector<Write>& batch, std::size_t max);
  // Waits for the next read of `which`; nullopt once closed and that queue is drained.
  std::optional<Read> TakeRead(Reads which);
  void Close();

 private:
  std::mutex mu_;
  std::condition_variable write_cv_, read_cv_, background_cv_;
  std::deque<Write> writes_;
  std::deque<Read> reads_, background_reads_;
  bool closing_ = false;
};

}  // namespace polaris
