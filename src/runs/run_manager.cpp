#include "runs/run_manager.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <iostream>
#include <set>

#include "domain/clock.h"
#include "metrics/metrics.h"
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
  std::shared_ptr<CancelState> cancel;
  {
    std::lock_guard lock(mu_);
    std::erase(queue_, run_id);
    if (auto it = executing_.find(run_id); it != executing_.end()) cancel = it->second;
  }
  if (cancel) cancel->Cancel(CancelReason::kUser);
  PublishGauges();
}

void RunManager::StartMore() {
  while (true) {
    std::string run_id;
    auto cancel = std::make_shared<CancelState>();
    {
      std::lock_guard lock(mu_);
      if (shutting_down_ || queue_.empty() ||
          static_cast<int>(executing_.size()) >= config_.max_runs) {
        break;
      }
      run_id = queue_.front();
      queue_.pop_front();
      if (executing_.count(run_id)) continue;  // already running (a duplicate enqueue)
      executing_[run_id] = cancel;
    }
    Launch(run_id, cancel);
  }
  PublishGauges();
}

void RunManager::Launch(const std::string& run_id, std::shared_ptr<CancelState> cancel) {
  auto strand = asio::make_strand(executor_);
  asio::co_spawn(
      strand,
      [this, run_id, cancel]() -> asio::awaitable<void> {
        const auto started = std::chrono::steady_clock::now();
        RunOutcome outcome = RunOutcome::kFailed;
        bool crashed = false;
        try {
          outcome = co_await agent::ExecuteRun(deps_, run_id, *cancel);
        } catch (const std::exception& e) {
          std::cerr << "polaris: run " << run_id << " crashed: " << e.what() << "\n";
          crashed = true;
        }
        if (crashed) {
          // Best effort: the message must not stay processing.
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
            if (run && run->status == RunStatus::kExecuting) {
              run->status = RunStatus::kQueued;
              run->attempt = std::max(0, run->attempt - 1);
              repo.UpdateRun(*run);
            }
            return true;
          });
        }
        Finished(run_id, outcome,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      },
      asio::detached);
}

void RunManager::Finished(const std::string& run_id, RunOutcome outcome, double seconds) {
  {
    std::lock_guard lock(mu_);
    executing_.erase(run_id);
  }
  if (deps_.metrics && outcome != RunOutcome::kStopped) {
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

void RunManager::Shutdown() {
  std::vector<std::shared_ptr<CancelState>> cancels;
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
    queue_.clear();
    for (auto& [id, c] : executing_) cancels.push_back(c);
  }
  for (auto& c : cancels) c->Cancel(CancelReason::kShutdown);
}

bool RunManager::Idle() const {
  std::lock_guard lock(mu_);
  return executing_.empty();
}

void RunManager::Recover() {
  asio::co_spawn(
      executor_,
      [this]() -> asio::awaitable<void> {
        std::vector<std::pair<std::string, int>> resume;  // run id, attempts already made
        co_await deps_.db.Write([&](Repo& repo) {
          std::set<std::string> owned;  // messages an unfinished run will answer
          for (auto& run : repo.ListUnfinishedRuns()) {
            if (run.status == RunStatus::kExecuting && run.attempt >= config_.max_attempts) {
              FailInterrupted(repo, &run, run.message_id);
              continue;
            }
            owned.insert(run.message_id);
            resume.emplace_back(run.id, run.status == RunStatus::kExecuting ? run.attempt : 0);
          }
          for (const auto& id : repo.ListProcessingMessages()) {
            if (!owned.count(id)) FailInterrupted(repo, nullptr, id);
          }
          return true;
        });
        for (const auto& [run_id, attempts] : resume) {
          if (attempts == 0) {
            Enqueue(run_id);
            continue;
          }
          // A crashed attempt: wait a little (exponential backoff) before the next one.
          auto delay = config_.backoff * (1 << std::min(attempts - 1, 6));
          asio::co_spawn(
              executor_,
              [this, run_id, delay]() -> asio::awaitable<void> {
                asio::steady_timer timer(executor_, delay);
                co_await timer.async_wait(asio::use_awaitable);
                Enqueue(run_id);
              },
              asio::detached);
        }
      },
      asio::detached);
}

}  // namespace polaris::runs
