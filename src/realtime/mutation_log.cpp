#include "realtime/mutation_log.h"

namespace polaris::realtime {
namespace {
constexpr std::size_t kMaxRequestsPerSession = 1024;
constexpr auto kSessionIdle = std::chrono::minutes(30);
constexpr auto kSweepInterval = std::chrono::minutes(1);
}  // namespace

MutationLog::Claim MutationLog::Begin(const std::string& session_id, std::int64_t request_id) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  Expire(now);
  auto& s = sessions_[session_id];
  s.last_used = now;
  auto it = s.requests.find(request_id);
  if (it != s.requests.end()) {
    if (!it->second) return {State::kRunning, {}};
    return {State::kDone, *it->second};
  }
  s.requests.emplace(request_id, std::nullopt);
  // Request ids count up; the oldest answers are the ones no client can still be waiting for.
  while (s.requests.size() > kMaxRequestsPerSession) s.requests.erase(s.requests.begin());
  return {State::kNew, {}};
}

void MutationLog::Finish(const std::string& session_id, std::int64_t request_id,
                         std::string response) {
  std::lock_guard lock(mu_);
  auto& s = sessions_[session_id];
  s.requests[request_id] = std::move(response);
  s.last_used = std::chrono::steady_clock::now();
}

void MutationLog::Abandon(const std::string& session_id, std::int64_t request_id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session_id);
  if (it != sessions_.end()) it->second.requests.erase(request_id);
}

void MutationLog::Expire(std::chrono::steady_clock::time_point now) {
  if (now - last_sweep_ < kSweepInterval) return;
  last_sweep_ = now;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = now - it->second.last_used > kSessionIdle ? sessions_.erase(it) : std::next(it);
  }
}

}  // namespace polaris::realtime
