#pragma once
// The agent loop: answers one assistant message with model steps and tool calls, streaming
// its content into the store. Writes are fenced: once the message is no longer "processing"
// for this run's attempt (cancelled, or taken over), nothing more is written.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "agent/run_stop.h"

namespace polaris {
class StoreClient;
class Metrics;
class LiveTail;
namespace providers {
class ProviderChain;
}
}  // namespace polaris

namespace polaris::agent {

struct AgentConfig {
  int max_steps = 10;
  int repeat_limit = 3;  // the same call with the same arguments this many times stops the run
  std::chrono::milliseconds flush_interval{100};
};

struct AgentDeps {
  StoreClient& db;
  providers::ProviderChain& chain;
  AgentConfig config;
  Metrics* metrics = nullptr;
  LiveTail* tail = nullptr;  // where streamed text goes the moment it arrives (optional)
};

enum class RunOutcome {
  kCompleted,
  kFailed,
  kCancelled,  // by the user: the cancel already wrote the final state
  kStopped,    // by shutdown: left for the next start to resume
  kFencedOut,  // the run no longer owns its message (finished elsewhere, or gone)
  // Not returned by ExecuteRun: the store failed under the run, which is left with its lease
  // for a sweep to resume once the lease expires.
  kInterrupted,
};

// Starts a new attempt of run_id (resuming from its checkpoint) and drives it to the end.
// Spawn it with stop.slot() bound: a stop cancels what the run waits on, at once.
boost::asio::awaitable<RunOutcome> ExecuteRun(AgentDeps& deps, const std::string& run_id,
                                              RunStop& stop);

}  // namespace polaris::agent
