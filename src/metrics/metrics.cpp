#include "metrics/metrics.h"

#include <cstdio>

#include "domain/limits.h"

namespace polaris {
namespace {
std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
void RenderCounter(std::string& out, const std::string& name, const std::string& help,
                   const std::string& label, const std::map<std::string, std::uint64_t>& m) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (const auto& [k, v] : m)
    out += name + "{" + label + "=\"" + k + "\"} " + std::to_string(v) + "\n";
}
}  // namespace

void Histogram::Observe(double seconds) {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) ++buckets_[i];
  }
  ++count_;
  sum_ += seconds;
}

void Histogram::Render(std::string& out, const std::string& name, const std::string& help) const {
  std::lock_guard lock(mu_);
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    out += name + "_bucket{le=\"" + Num(kBounds[i]) + "\"} " + std::to_string(buckets_[i]) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + Num(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

void Metrics::Inc(std::map<std::string, std::uint64_t>& m, const std::string& key) {
  std::lock_guard lock(mu_);
  ++m[key];
}
void Metrics::CountRun(const std::string& status) {
  Inc(runs_by_status_, status);
}
void Metrics::SetRunsActive(int queued, int executing) {
  queued_ = queued;
  executing_ = executing;
}
void Metrics::CountProviderRequest(const std::string& p) {
  Inc(requests_, p);
}
void Metrics::CountProviderError(const std::string& p) {
  Inc(errors_, p);
}
void Metrics::CountFallback(const std::string& p) {
  Inc(fallbacks_, p);
}

std::string Metrics::Render() const {
  std::string out;
  {
    std::lock_guard lock(mu_);
    RenderCounter(out, "polaris_runs_finished_total", "Runs that reached a final status.", "status",
                  runs_by_status_);
    RenderCounter(out, "polaris_provider_requests_total", "Model steps sent to a provider.",
                  "provider", requests_);
    RenderCounter(out, "polaris_provider_errors_total", "Provider steps that failed.", "provider",
                  errors_);
    RenderCounter(out, "polaris_provider_fallbacks_total",
                  "Steps moved from this provider to the next one.", "provider", fallbacks_);
  }
  RenderCounter(out, "polaris_limit_hits_total",
                "Requests, connections and tool calls refused by a limit (docs/security.md).",
                "limit", LimitHits());
  out += "# HELP polaris_connections Open client connections.\n# TYPE polaris_connections gauge\n";
  out += "polaris_connections " + std::to_string(connections_.load()) + "\n";
  out += "# HELP polaris_runs Runs not yet finished, by status.\n# TYPE polaris_runs gauge\n";
  out += "polaris_runs{status=\"queued\"} " + std::to_string(queued_.load()) + "\n";
  out += "polaris_runs{status=\"executing\"} " + std::to_string(executing_.load()) + "\n";
  run_duration_.Render(out, "polaris_run_duration_seconds", "Run duration, start to final status.");
  ttft_.Render(out, "polaris_time_to_first_token_seconds",
               "Delay from sending a model step to its first answer token.");
  return out;
}

}  // namespace polaris
