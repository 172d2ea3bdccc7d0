#pragma once
// A Store that passes jobs to a real one, until told to fail writes: then each write fails at
// once with an "unavailable" StoreError, as a full disk or a lost database would.
#include <atomic>

#include "store/store.h"

namespace polaris::runs_test {

class FaultyStore final : public Store {
 public:
  explicit FaultyStore(Store& inner) : inner_(inner) {}
  // The next n writes fail (n < 0: every write, until Heal()).
  void FailWrites(int n = -1) { failing_ = n; }
  void Heal() { failing_ = 0; }
  int failed() const { return failed_; }

  void SetCommitListener(CommitListener listener) override {
    inner_.SetCommitListener(std::move(listener));
  }
  void SubmitRead(ReadJob job, Done done) override {
    inner_.SubmitRead(std::move(job), std::move(done));
  }
  void SubmitBackgroundRead(ReadJob job, Done done) override {
    inner_.SubmitBackgroundRead(std::move(job), std::move(done));
  }
  void SubmitWrite(WriteJob job, Done done, Durability durability) override {
    int n = failing_.load();
    while (n != 0 && !failing_.compare_exchange_weak(n, n > 0 ? n - 1 : n)) {
    }
    if (n != 0) {
      ++failed_;
      done(std::make_exception_ptr(StoreError("injected: the disk is full", true)));
      return;
    }
    inner_.SubmitWrite(std::move(job), std::move(done), durability);
  }
  void Close() override { inner_.Close(); }

 private:
  Store& inner_;
  std::atomic<int> failing_{0};
  std::atomic<int> failed_{0};
};

}  // namespace polaris::runs_test
