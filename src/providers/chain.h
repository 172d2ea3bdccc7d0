#pragma once
// The provider chain: each model step is tried on each
// configured provider in order, skipping providers whose circuit breaker is open.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <vector>

#include "domain/result.h"
#include "providers/provider.h"

namespace polaris {
class Metrics;
}

namespace polaris::providers {

struct ChainConfig {
  std::vector<ProviderConfig> providers;  // in fallback order; only those with a key
  Timeouts timeouts;
  int breaker_threshold = 3;  // consecutive failures that open the breaker
  std::chrono::milliseconds breaker_cooldown{30000};
};

// Reads OPENROUTER_* / CEREBRAS_* and POLARIS_PROVIDER_*_TIMEOUT_MS from the environment; a
// malformed number is an error naming its variable.
Result<ChainConfig> ChainConfigFromEnv();

struct ChainResult : StepResult {
  std::string provider;  // the provider that produced the result (or failed last)
  std::string model;
};

class ProviderChain {
 public:
  // streamer: where steps come from (HttpStepStreamer() unless a test says otherwise).
  ProviderChain(ChainConfig config, Metrics* metrics, StepStreamer& streamer = HttpStepStreamer());
  bool empty() const { return config_.providers.empty(); }

  // on_reset runs before a retry on the next provider, so the caller can drop the text the
  // failed attempt streamed. A fatal failure (bad request or key) is not retried elsewhere.
  // Cancelling the awaiting coroutine ends the step with Failure::kCancelled (no fallback).
  boost::asio::awaitable<ChainResult> Step(const StepRequest& request, TextSink on_text,
                                           std::function<boost::asio::awaitable<void>()> on_reset);

  // Breaker state, exposed for tests.
  bool IsOpen(const std::string& provider) const;
  // False when no provider has a key: every step would fail at once.
  bool HasProviders() const { return !config_.providers.empty(); }
  static constexpr const char* kNoProviderError =
      "No AI provider configured: set OPENROUTER_API_KEY or CEREBRAS_API_KEY";

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Breaker {
    int failures = 0;
    SteadyTime open_until{};
  };
  std::vector<const ProviderConfig*> Order() const;
  void RecordSuccess(const std::string& name);
  void RecordFailure(const std::string& name, std::optional<std::chrono::seconds> retry_after);

  ChainConfig config_;
  Metrics* metrics_;
  StepStreamer& streamer_;
  mutable std::mutex mu_;
  std::map<std::string, Breaker> breakers_;
};

}  // namespace polaris::providers
