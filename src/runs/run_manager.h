#pragma once
// Owns every background run of this process (the role Trigger.dev played for the original):
// a FIFO of queued runs, at most max_runs executing at once, each on its own strand with its
// own RunStop. Runs are durable: Recover() picks up what a previous process left.
// Each run it holds has a lease (domain/run_lease.h): a heartbeat renews them, and a run whose
// lease is gone (cancelled, or taken over after a stall) is stopped here. A sweep takes over
// the runs of processes that died (their leases expired), with FOR UPDATE SKIP LOCKED.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/run_stop.h"

namespace polaris::runs {

struct RunManagerConfig {
  int max_runs = 256;
  int max_attempts = 3;
  std::chrono::milliseconds backoff{1000};  // doubled per earlier attempt
  // Other processes may share the database (PostgreSQL): a run is taken over only once its
  // lease expired. Otherwise (SQLite) this process owns every run, and Recover() takes them all.
  bool shared_store = false;
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
  // Stops every run at a safe point and leaves it queued, its lease released, for the next
  // start or another process. on_idle runs (on some thread) each time Idle() may have become
  // true, so whoever waits for it need not poll.
  void Shutdown(std::function<void()> on_idle = {});
  // True once no run is executing (after Shutdown: safe to stop the event loop).
  bool Idle() const;

 private:
  // Takes over runs whose lease expired (all unfinished runs when `everything`: start-up on
  // an unshared store) and queues them: after a backoff when an attempt was interrupted.
  boost::asio::awaitable<void> Sweep(bool everything);
  boost::asio::awaitable<void> SweepLoop();
  boost::asio::awaitable<void> HeartbeatLoop();
  // Renews the leases of every run held here; stops the ones whose lease is gone.
  boost::asio::awaitable<void> Heartbeat();
  // Sleeps on a timer Shutdown() cancels; false once shutting down.
  boost::asio::awaitable<bool> Sleep(std::chrono::milliseconds d);
  void StartMore();
  void Launch(const std::string& run_id, std::shared_ptr<RunStop> stop);
  void Spawn(const std::string& run_id, const std::shared_ptr<RunStop>& stop);  // on its strand
  void Finished(const std::string& run_id, agent::RunOutcome outcome, double seconds);
  void PublishGauges();
  // Calls on_idle_ once shutting down and idle.
  void NotifyIfIdle();

  boost::asio::any_io_executor executor_;
  agent::AgentDeps deps_;
  RunManagerConfig config_;
  mutable std::mutex mu_;
  std::deque<std::string> queue_;
  std::map<std::string, std::shared_ptr<RunStop>> executing_;  // run id -> its stop
  std::set<std::string> waiting_;  // taken over, waiting out a backoff before queueing
  std::vector<std::shared_ptr<boost::asio::steady_timer>> timers_;  // cancelled by Shutdown
  int releasing_ = 0;  // lease releases in flight at shutdown
  bool shutting_down_ = false;
  std::function<void()> on_idle_;
};

}  // namespace polaris::runs
