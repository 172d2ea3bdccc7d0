#pragma once
// The database timestamp of the Convex protocol: nanoseconds since the epoch, strictly
// increasing per commit, never below what a client has already observed. Thread-safe.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace polaris::realtime {

class CommitClock {
 public:
  // A new commit: max(now, latest + 1). Called by the store's writer after each commit.
  std::uint64_t Advance() {
    std::uint64_t prev = latest_.load();
    std::uint64_t next;
    do {
      next = std::max(NowNs(), prev + 1);
    } while (!latest_.compare_exchange_weak(prev, next));
    return next;
  }
  // A client saw `ts` (e.g. from before a restart with a faster clock): never go below it.
  // Clamped to a minute ahead of real time: a client that lies cannot push the clock to its
  // end (timestamps would then stop increasing).
  void Observe(std::uint64_t ts) {
    constexpr std::uint64_t kMaxAheadNs = 60ull * 1000 * 1000 * 1000;
    ts = std::min(ts, NowNs() + kMaxAheadNs);
    std::uint64_t prev = latest_.load();
    while (prev < ts && !latest_.compare_exchange_weak(prev, ts)) {
    }
  }
  std::uint64_t Latest() const { return latest_.load(); }

 private:
  static std::uint64_t NowNs() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  }
  std::atomic<std::uint64_t> latest_{NowNs()};
};

}  // namespace polaris::realtime
