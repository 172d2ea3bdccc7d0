#include "runs/run_manager.h"

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <limits>
#include <set>

#include "domain/clock.h"
#include "domain/log.h"
#include "domain/run_lease.h"
#include "metrics/metrics.h"
#include "store/store.h"
#include "store/store_client.h"

namespace polaris::runs {
namespace asio = boost::asio;
using agent::RunOutcome;

namespace {
constexpr const char* kInterrupted = "interrupted";

const char* OutcomeName(RunOutcome o) {
  switch (o) {
    case RunOutcome::kCompleted:
      return "completed";
    case RunOutcome::kFailed:
      return "failed";
    case RunOutcome::kCancelled:
      return "cancelled";
    case RunOutcome::kStopped:
      return "stopped";
    case RunOutcome::kFencedOut:
      return "superseded";
    case RunOutcome::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

// Fails a run and its message for good (attempts used up, or the run is missing).
void FailInterrupted(Repo& repo, Run* run, const std::string& message_id) {
  Millis now = NowMillis();
  if (auto m = repo.GetMessage(message_id); m && m->status == MessageStatus::kProcessing) {
    m->status = MessageStatus::kFailed;
    m->error = kInterrupted;
    repo.UpdateMessage(*m);
    repo.TouchConversation(m->conversation_id, now);
  }
  if (run) {
    run->status = RunStatus::kFailed;
    run->error = kInterrupted;
    run->finished_at = now;
    repo.UpdateRun(*run);
  }
}
}  // namespace

RunManager::RunManager(asio::any_io_executor executor, agent::AgentDeps deps,
                       RunManagerConfig config)
    : executor_(std::move(executor)), deps_(deps), config_(config) {}

void RunManager::Enqueue(const std::string& run_id) {
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return;  // it stays queued in the store; the next start resumes it
    queue_.push_back(run_id);
  }
  StartMore();
}

void RunManager::Cancel(const std::string& run_id) {
  std::shared_ptr<RunStop> stop;
  {
    std::lock_guard lock(mu_);
    std::erase(queue_, run_id);
    if (auto it = executing_.find(run_id); it != executing_.end()) stop = it->second;
  }
  if (stop) stop->Stop(CancelReason::kUser);
  PublishGauges();
}

void RunManager::StartMore() {
  while (true) {
    std::string run_id;
    // Each run on its own strand, where its stop signal is emitted.
    auto stop = std::make_shared<RunStop>(asio::make_strand(executor_));
    {
      std::lock_guard lock(mu_);
      if (shutting_down_ || queue_.empty() ||
          static_cast<int>(executing_.size()) >= config_.max_runs) {
        break;
      }
      run_id = queue_.front();
      queue_.pop_front();
      if (executing_.count(run_id)) continue;  // already running (a duplicate enqueue)
      executing_[run_id] = stop;
    }
    Launch(run_id, stop);
  }
  PublishGauges();
}

void RunManager::Launch(const std::string& run_id, std::shared_ptr<RunStop> stop) {
  // Spawned from the run's strand: binding the stop's slot and a stop's emit (posted there)
  // never run at once, since a cancellation signal is not thread-safe.
  asio::dispatch(stop->executor(), [this, run_id, stop] { Spawn(run_id, stop); });
}

void RunManager::Spawn(const std::string& run_id, const std::shared_ptr<RunStop>& stop) {
  asio::co_spawn(
      stop->executor(),
      [this, run_id, stop]() -> asio::awaitable<void> {
        // The hand-back below runs after a stop cancelled the run's operations.
        co_await asio::this_coro::throw_if_cancelled(false);
        const auto started = std::chrono::steady_clock::now();
        LogDebug("run launched", {{"run", run_id}});
        RunOutcome outcome = RunOutcome::kFailed;
        bool crashed = false;
        try {
          outcome = co_await agent::ExecuteRun(deps_, run_id, *stop);
        } catch (const StoreError& e) {
          LogWarn("run stopped: the store failed",
                  {{"run", run_id}, {"error", e.what()}, {"unavailable", e.unavailable}});
          // The database is away: the run keeps its state and its lease, which nothing renews
          // now; once it expires a sweep (here or elsewhere) resumes the run, after a backoff.
          crashed = !e.unavailable;
          if (e.unavailable) outcome = RunOutcome::kInterrupted;
        } catch (const std::exception& e) {
          LogError("run crashed", {{"run", run_id}, {"error", e.what()}});
          crashed = true;
        }
        try {
          if (crashed) {
            // The message must not stay processing.
            co_await deps_.db.Write([&](Repo& repo) {
              auto run = repo.GetRun(run_id);
              if (run && run->status == RunStatus::kExecuting) {
                FailInterrupted(repo, &*run, run->message_id);
              }
              return true;
            });
          }
          if (outcome == RunOutcome::kStopped) {
            // Shutdown: hand the run back to the queue without spending an attempt.
            co_await deps_.db.Write([&](Repo& repo) {
              auto run = repo.GetRun(run_id);
              if (run && run->status == RunStatus::kExecuting &&
                  run->lease_owner == CurrentRunLease().owner) {
                run->status = RunStatus::kQueued;
                run->attempt = std::max(0, run->attempt - 1);
                run->lease_expires_at = 0;  // released: the next process may take it at once
                repo.UpdateRun(*run);
              }
              return true;
            });
          }
        } catch (const std::exception& e) {
          // Its lease expires and a sweep resumes it (a crash spent an attempt).
          LogWarn("run left for recovery", {{"run", run_id}, {"error", e.what()}});
        }
        Finished(run_id, outcome,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      },
      // The run's stop cancels whatever the run awaits (Asio per-operation cancellation).
      asio::bind_cancellation_slot(stop->slot(), asio::detached));
}

void RunManager::Finished(const std::string& run_id, RunOutcome outcome, double seconds) {
  LogInfo("run ended", {{"run", run_id}, {"outcome", OutcomeName(outcome)}, {"seconds", seconds}});
  {
    std::lock_guard lock(mu_);
    executing_.erase(run_id);
  }
  NotifyIfIdle();
  // A stopped or interrupted run is not over: it is counted when an attempt ends it.
  if (deps_.metrics && outcome != RunOutcome::kStopped && outcome != RunOutcome::kInterrupted) {
    deps_.metrics->CountRun(OutcomeName(outcome));
    deps_.metrics->run_duration().Observe(seconds);
  }
  StartMore();
}

void RunManager::PublishGauges() {
  if (!deps_.metrics) return;
  std::lock_guard lock(mu_);
  deps_.metrics->SetRunsActive(static_cast<int>(queue_.size()),
                               static_cast<int>(executing_.size()));
}

void RunManager::Shutdown(std::function<void()> on_idle) {
  std::vector<std::shared_ptr<RunStop>> stops;
  std::vector<std::string> held;  // queued or waiting here: released for anyone to take
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return;
    shutting_down_ = true;
    on_idle_ = std::move(on_idle);
    held.assign(queue_.begin(), queue_.end());
    held.insert(held.end(), waiting_.begin(), waiting_.end());
    queue_.clear();
    waiting_.clear();
    for (auto& [id, s] : executing_) stops.push_back(s);
    for (auto& t : timers_) t->cancel();
    if (!held.empty()) ++releasing_;
  }
  for (auto& s : stops) s->Stop(CancelReason::kShutdown);
  if (held.empty()) return;
  asio::co_spawn(
      executor_,
      [this, held = std::move(held)]() -> asio::awaitable<void> {
        try {
          co_await deps_.db.Write([&](Repo& repo) {
            repo.RenewRunLeases(CurrentRunLease().owner, held, 0);
            return true;
          });
        } catch (const std::exception& e) {
          // They are taken over once their leases expire.
          LogWarn("could not release run leases at shutdown",
                  {{"runs", static_cast<long long>(held.size())}, {"error", e.what()}});
        }
        {
          std::lock_guard lock(mu_);
          --releasing_;
        }
        NotifyIfIdle();
      },
      asio::detached);
}

void RunManager::NotifyIfIdle() {
  std::function<void()> fn;
  {
    std::lock_guard lock(mu_);
    if (shutting_down_ && executing_.empty() && releasing_ == 0) fn = on_idle_;
  }
  if (fn) fn();
}

bool RunManager::Idle() const {
  std::lock_guard lock(mu_);
  return executing_.empty() && releasing_ == 0;
}

asio::awaitable<bool> RunManager::Sleep(std::chrono::milliseconds d) {
  auto timer = std::make_shared<asio::steady_timer>(executor_, d);
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) co_return false;
    timers_.push_back(timer);
  }
  boost::system::error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  std::lock_guard lock(mu_);
  std::erase(timers_, timer);
  co_return !shutting_down_;
}

asio::awaitable<void> RunManager::Sweep(bool everything) {
  const auto& lease = CurrentRunLease();
  std::vector<std::pair<std::string, int>> resume;  // run id, attempts already made
  if (!everything) {
    bool any = false;
    co_await deps_.db.Read([&](Repo& repo) { any = repo.HasExpiredRuns(NowMillis()); });
    if (!any) co_return;
  }
  co_await deps_.db.Write([&](Repo& repo) {
    resume.clear();
    const Millis now = NowMillis();
    // Unshared store at start: every unfinished run was left by an earlier process.
    const Millis expired_before = everything ? std::numeric_limits<Millis>::max() : now;
    constexpr int kBatch = 64;
    while (true) {
      auto runs = repo.TakeExpiredRuns(lease.owner, expired_before, now + lease.duration, kBatch);
      // Oldest first, as they were queued (an UPDATE … RETURNING has no order of its own).
      std::stable_sort(runs.begin(), runs.end(),
                       [](const Run& a, const Run& b) { return a.created_at < b.created_at; });
      for (auto& run : runs) {
        if (run.status == RunStatus::kExecuting && run.attempt >= config_.max_attempts) {
          LogWarn("run failed: its attempts are used up",
                  {{"run", run.id}, {"attempts", run.attempt}});
          FailInterrupted(repo, &run, run.message_id);
          continue;
        }
        resume.emplace_back(run.id, run.status == RunStatus::kExecuting ? run.attempt : 0);
      }
      if (static_cast<int>(runs.size()) < kBatch) break;
    }
    return true;
  });
  for (const auto& [run_id, attempts] : resume) {
    LogInfo(attempts == 0 ? "run taken over: queued" : "run taken over: interrupted",
            {{"run", run_id}, {"attempts", attempts}});
    if (attempts == 0) {
      Enqueue(run_id);
      continue;
    }
    // An interrupted attempt (its process crashed): wait a little, exponential backoff.
    {
      std::lock_guard lock(mu_);
      if (shutting_down_) continue;
      waiting_.insert(run_id);
    }
    const auto delay = config_.backoff * (1 << std::min(attempts - 1, 6));
    asio::co_spawn(
        executor_,
        // A copy, not a capture of the structured binding: clang before 16 cannot capture one.
        [this, run_id = std::string(run_id), delay]() -> asio::awaitable<void> {
          const bool go = co_await Sleep(delay);
          bool still_ours = false;
          {
            std::lock_guard lock(mu_);
            still_ours = waiting_.erase(run_id) > 0;
          }
          if (go && still_ours) Enqueue(run_id);
        },
        asio::detached);
  }
}

asio::awaitable<void> RunManager::SweepLoop() {
  const auto every =
      std::chrono::milliseconds(std::clamp<Millis>(CurrentRunLease().duration / 4, 100, 1000));
  bool failing = false;
  while (co_await Sleep(every)) {
    try {
      co_await Sweep(false);
      failing = false;
    } catch (const std::exception& e) {
      // The database is away: the next round tries again. Said once per outage.
      if (!failing) LogWarn("run sweep failed; retrying", {{"error", e.what()}});
      failing = true;
    }
  }
}

asio::awaitable<void> RunManager::Heartbeat() {
  std::vector<std::string> held;
  {
    std::lock_guard lock(mu_);
    held.assign(queue_.begin(), queue_.end());
    for (const auto& [id, c] : executing_) held.push_back(id);
    held.insert(held.end(), waiting_.begin(), waiting_.end());
  }
  if (held.empty()) co_return;
  std::vector<std::string> renewed;
  co_await deps_.db.Write([&](Repo& repo) {
    renewed = repo.RenewRunLeases(CurrentRunLease().owner, held,
                                  NowMillis() + CurrentRunLease().duration);
    return true;
  });
  const std::set<std::string> kept(renewed.begin(), renewed.end());
  std::vector<std::shared_ptr<RunStop>> stop;
  {
    std::lock_guard lock(mu_);
    for (const auto& id : held) {
      if (kept.count(id)) continue;
      // Cancelled, finished meanwhile, or taken over by another process: not ours to run.
      const bool held_here = std::erase(queue_, id) + waiting_.erase(id) > 0;
      if (auto it = executing_.find(id); it != executing_.end()) {
        stop.push_back(it->second);
      } else if (!held_here) {
        continue;  // it finished here meanwhile
      }
      LogInfo("run lease lost: stopping it here", {{"run", id}});
    }
  }
  for (auto& s : stop) s->Stop(CancelReason::kSuperseded);
}

asio::awaitable<void> RunManager::HeartbeatLoop() {
  const auto every =
      std::chrono::milliseconds(std::max<Millis>(CurrentRunLease().duration / 3, 50));
  bool failing = false;
  while (co_await Sleep(every)) {
    try {
      co_await Heartbeat();
      failing = false;
    } catch (const std::exception& e) {
      // The database is away; a lease that expires meanwhile is lost, as it should be.
      if (!failing) LogWarn("run heartbeat failed; retrying", {{"error", e.what()}});
      failing = true;
    }
  }
}

void RunManager::Recover() {
  asio::co_spawn(
      executor_,
      [this]() -> asio::awaitable<void> {
        try {
          // A message left processing with no unfinished run to answer it fails.
          co_await deps_.db.Write([&](Repo& repo) {
            std::set<std::string> owned;
            for (auto& run : repo.ListUnfinishedRuns()) owned.insert(run.message_id);
            for (const auto& id : repo.ListProcessingMessages()) {
              if (!owned.count(id)) FailInterrupted(repo, nullptr, id);
            }
            return true;
          });
          co_await Sweep(!config_.shared_store);
        } catch (const std::exception& e) {
          LogError("recovering runs failed", {{"error", e.what()}});
        }
      },
      asio::detached);
  asio::co_spawn(executor_, HeartbeatLoop(), asio::detached);
  asio::co_spawn(executor_, SweepLoop(), asio::detached);
}

}  // namespace polaris::runs
