#pragma once
// Why a run stops early, and the Asio cancellation signal that interrupts what it waits on.
// The run's coroutine is spawned with slot() bound (RunManager::Launch), so every operation
// it awaits is cancelled through Asio's per-operation cancellation: the provider's socket and
// timers, and both sides of a step's parallel_group. The reason says what to do next.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <memory>

namespace polaris {

enum class CancelReason { kNone, kUser, kShutdown, kSuperseded };

class RunStop {
 public:
  // `executor`: the one the run's coroutine runs on (a strand); the signal is emitted there,
  // since a cancellation signal is not thread-safe.
  explicit RunStop(boost::asio::any_io_executor executor)
      : executor_(std::move(executor)),
        signal_(std::make_shared<boost::asio::cancellation_signal>()) {}

  // Thread-safe; the first reason wins. The reason is visible at once, the cancellation of
  // pending operations follows on the run's executor.
  void Stop(CancelReason reason) {
    CancelReason none = CancelReason::kNone;
    if (!reason_.compare_exchange_strong(none, reason)) return;
    boost::asio::post(
        executor_, [signal = signal_] { signal->emit(boost::asio::cancellation_type::terminal); });
  }
  bool stopped() const { return reason() != CancelReason::kNone; }
  CancelReason reason() const { return reason_.load(); }

  const boost::asio::any_io_executor& executor() const { return executor_; }
  // For the co_spawn of the run (one run per RunStop).
  boost::asio::cancellation_slot slot() { return signal_->slot(); }

 private:
  boost::asio::any_io_executor executor_;
  std::shared_ptr<boost::asio::cancellation_signal> signal_;  // outlives a pending emit
  std::atomic<CancelReason> reason_{CancelReason::kNone};
};

}  // namespace polaris
