#pragma once
// A cancellation flag with hooks: whoever owns a socket or timer for a run registers a hook
// that closes it, so a cancel interrupts whatever the run is waiting on. Thread-safe.
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace polaris {

enum class CancelReason { kNone, kUser, kShutdown, kSuperseded };

class CancelState {
 public:
  // Runs every hook once (outside the lock); later registrations run at once.
  void Cancel(CancelReason reason) {
    std::map<int, std::function<void()>> hooks;
    {
      std::lock_guard lock(mu_);
      if (reason_ != CancelReason::kNone) return;
      reason_ = reason;
      hooks.swap(hooks_);
    }
    for (auto& [id, fn] : hooks) fn();
  }
  bool cancelled() const {
    std::lock_guard lock(mu_);
    return reason_ != CancelReason::kNone;
  }
  CancelReason reason() const {
    std::lock_guard lock(mu_);
    return reason_;
  }
  // Returns an id for Remove; runs fn immediately if already cancelled (and returns -1).
  int Add(std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      if (reason_ == CancelReason::kNone) {
        hooks_.emplace(next_, std::move(fn));
        return next_++;
      }
    }
    fn();
    return -1;
  }
  void Remove(int id) {
    std::lock_guard lock(mu_);
    hooks_.erase(id);
  }

 private:
  mutable std::mutex mu_;
  CancelReason reason_ = CancelReason::kNone;
  std::map<int, std::function<void()>> hooks_;
  int next_ = 0;
};

// Registers a hook for the lifetime of a scope.
class CancelHook {
 public:
  CancelHook(CancelState* state, std::function<void()> fn)
      : state_(state), id_(state ? state->Add(std::move(fn)) : -1) {}
  ~CancelHook() {
    if (state_ && id_ >= 0) state_->Remove(id_);
  }
  CancelHook(const CancelHook&) = delete;
  CancelHook& operator=(const CancelHook&) = delete;

 private:
  CancelState* state_;
  int id_;
};

}  // namespace polaris
