#include "store/job_queues.h"

namespace polaris {

void JobQueues::PushWrite(Write w) {
  {
    std::lock_guard lock(mu_);
    writes_.push_back(std::move(w));
  }
  write_cv_.notify_one();
}

void JobQueues::PushWritesFront(std::vector<Write> writes) {
  if (writes.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto it = writes.rbegin(); it != writes.rend(); ++it) writes_.push_front(std::move(*it));
  }
  write_cv_.notify_one();
}

void JobQueues::PushRead(Reads which, Read r) {
  {
    std::lock_guard lock(mu_);
    (which == Reads::kShort ? reads_ : background_reads_).push_back(std::move(r));
  }
  (which == Reads::kShort ? read_cv_ : background_cv_).notify_one();
}

bool JobQueues::TakeWrites(std::vector<Write>& batch, std::size_t max) {
  std::unique_lock lock(mu_);
  write_cv_.wait(lock, [&] { return closing_ || !writes_.empty(); });
  if (writes_.empty()) return false;  // closing and drained
  while (!writes_.empty() && batch.size() < max) {
    batch.push_back(std::move(writes_.front()));
    writes_.pop_front();
  }
  return true;
}

std::optional<JobQueues::Read> JobQueues::TakeRead(Reads which) {
  auto& queue = which == Reads::kShort ? reads_ : background_reads_;
  auto& cv = which == Reads::kShort ? read_cv_ : background_cv_;
  std::unique_lock lock(mu_);
  cv.wait(lock, [&] { return closing_ || !queue.empty(); });
  if (queue.empty()) return std::nullopt;
  Read r = std::move(queue.front());
  queue.pop_front();
  return r;
}

void JobQueues::Close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  write_cv_.notify_all();
  read_cv_.notify_all();
  background_cv_.notify_all();
}

}  // namespace polaris
