#pragma once
// Process metrics in Prometheus text format: counters by label and latency histograms.
// Thread-safe; cheap enough to call on every request.
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace polaris {

class Histogram {
 public:
  void Observe(double seconds);
  void Render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  static constexpr std::array<double, 12> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,    2.5,   5,    10,  30};
  mutable std::mutex mu_;
  std::array<std::uint64_t, kBounds.size()> buckets_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  void CountRun(const std::string& status);  // a run reached a final status
  void SetRunsActive(int queued, int executing);
  void CountProviderRequest(const std::string& provider);
  void CountProviderError(const std::string& provider);
  void CountFallback(const std::string& from_provider);
  void AddConnections(int delta) { connections_ += delta; }
  Histogram& run_duration() { return run_duration_; }
  Histogram& time_to_first_token() { return ttft_; }

  std::string Render() const;

 private:
  void Inc(std::map<std::string, std::uint64_t>& m, const std::string& key);
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> runs_by_status_, requests_, errors_, fallbacks_;
  std::atomic<int> queued_{0}, executing_{0}, connections_{0};
  Histogram run_duration_, ttft_;
};

}  // namespace polaris
