#pragma once
// Owns every background run of this process (the role Trigger.dev played for the original):
// a FIFO of queued runs, at most max_runs executing at once, each on its own strand with its
// own CancelState. Runs are durable: Recover() picks up what a previous process left.
#include <boost/asio/any_io_executor.hpp>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "agent/agent.h"
#include "providers/cancel.h"

namespace polaris::runs {

struct RunManagerConfig {
  int max_runs = 256;
  int max_attempts = 3;
  std::chrono::milliseconds backoff{1000};  // doubled per earlier attempt
};

class RunManager {
 public:
  RunManager(boost::asio::any_io_executor executor, agent::AgentDeps deps, RunManagerConfig config);

  // Queues a run that was just created (or is being resumed).
  void Enqueue(const std::string& run_id);
  // Stops a run at once: removed from the queue, or its provider connection and tool aborted.
  void Cancel(const std::string& run_id);
  // At start: runs a crash left "executing" get another attempt after a backoff (or fail
  // with "interrupted" once attempts are used up); queued runs are queued again; a message
  // left "processing" without a run fails with "interrupted".
  void Recover();
  // Stops every run at a safe point and leaves it queued for the next start.
  void Shutdown();
  // True once no run is executing (after Shutdown: safe to stop the event loop).
  bool Idle() const;

 private:
  void StartMore();
  void Launch(const std::string& run_id, std::shared_ptr<CancelState> cancel);
  void Finished(const std::string& run_id, agent::RunOutcome outcome, double seconds);
  void PublishGauges();

  boost::asio::any_io_executor executor_;
  agent::AgentDeps deps_;
  RunManagerConfig config_;
  mutable std::mutex mu_;
  std::deque<std::string> queue_;
  std::map<std::string, std::shared_ptr<CancelState>> executing_;  // run id -> its cancel
  bool shutting_down_ = false;
};

}  // namespace polaris::runs
