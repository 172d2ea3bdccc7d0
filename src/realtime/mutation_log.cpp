#include "realtime/mutation_log.h"

namespace polaris::realtime {
namespace {
constexpr std::size_t kMaxRequestsPerSession = 1024;
constexpr auto kSessionIdle = std::chrono::minutes(30);
constexpr auto kSweepInterval = std::chrono::minutes(1);
// Bookkeeping per session and per request beyond the strings themselves (map nodes, list).
constexpr std::size_t kSessionOverhead = 160;
constexpr std::size_t kRequestOverhead = 64;

std::size_t AnswerBytes(const std::optional<std::string>& answer) {
  return kRequestOverhead + (answer ? answer->size() : 0);
}
}  // namespace

MutationLog::Session& MutationLog::Touch(const std::string& session_id,
                                         std::chrono::steady_clock::time_point now) {
  auto [it, fresh] = sessions_.try_emplace(session_id);
  Session& s = it->second;
  if (fresh) {
    lru_.push_front(session_id);
    s.lru = lru_.begin();
    s.bytes = kSessionOverhead + 2 * session_id.size();
    bytes_ += s.bytes;
  } else {
    lru_.splice(lru_.begin(), lru_, s.lru);
  }
  s.last_used = now;
  return s;
}

void MutationLog::Erase(Sessions::iterator it) {
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  sessions_.erase(it);
}

MutationLog::Claim MutationLog::Begin(const std::string& session_id, std::int64_t request_id) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  Expire(now);
  auto& s = Touch(session_id, now);
  auto it = s.requests.find(request_id);
  if (it != s.requests.end()) {
    if (!it->second) return {State::kRunning, {}};
    return {State::kDone, *it->second};
  }
  s.requests.emplace(request_id, std::nullopt);
  s.bytes += AnswerBytes(std::nullopt);
  bytes_ += AnswerBytes(std::nullopt);
  // Request ids count up; the oldest answers are the ones no client can still be waiting for.
  while (s.requests.size() > kMaxRequestsPerSession) {
    const std::size_t b = AnswerBytes(s.requests.begin()->second);
    s.bytes -= b;
    bytes_ -= b;
    s.requests.erase(s.requests.begin());
  }
  EvictOverBudget(session_id);
  return {State::kNew, {}};
}

void MutationLog::Finish(const std::string& session_id, std::int64_t request_id,
                         std::string response) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    auto& s = Touch(session_id, std::chrono::steady_clock::now());
    auto& slot = s.requests[request_id];
    const std::size_t before = AnswerBytes(slot);
    slot = std::move(response);
    const std::size_t after = AnswerBytes(slot);
    s.bytes += after - before;
    bytes_ += after - before;
    EvictOverBudget(session_id);
    wake = TakeWakers(session_id, request_id);
  }
  for (auto& w : wake) w();
}

void MutationLog::Abandon(const std::string& session_id, std::int64_t request_id) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    wake = TakeWakers(session_id, request_id);
    auto it = sessions_.find(session_id);
    if (it != sessions_.end()) {
      if (auto r = it->second.requests.find(request_id); r != it->second.requests.end()) {
        const std::size_t b = AnswerBytes(r->second);
        it->second.bytes -= b;
        bytes_ -= b;
        it->second.requests.erase(r);
      }
    }
  }
  for (auto& w : wake) w();
}

bool MutationLog::OnSettled(const std::string& session_id, std::int64_t request_id,
                            std::function<void()> wake) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return false;
  auto r = it->second.requests.find(request_id);
  if (r == it->second.requests.end() || r->second) return false;  // gone, or answered
  wakers_[{session_id, request_id}].push_back(std::move(wake));
  return true;
}

std::vector<std::function<void()>> MutationLog::TakeWakers(const std::string& session_id,
                                                           std::int64_t request_id) {
  std::vector<std::function<void()>> out;
  if (auto w = wakers_.find({session_id, request_id}); w != wakers_.end()) {
    out = std::move(w->second);
    wakers_.erase(w);
  }
  return out;
}

// Over budget, the least recently used sessions lose their answers first. The session being
// written is kept: its client is connected and may still re-send.
void MutationLog::EvictOverBudget(const std::string& keep) {
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    const std::string& oldest = lru_.back();
    if (oldest == keep) break;
    Erase(sessions_.find(oldest));
  }
}

void MutationLog::Expire(std::chrono::steady_clock::time_point now) {
  if (now - last_sweep_ < kSweepInterval) return;
  last_sweep_ = now;
  while (!lru_.empty()) {
    auto it = sessions_.find(lru_.back());
    if (now - it->second.last_used <= kSessionIdle) break;
    Erase(it);
  }
}

std::size_t MutationLog::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

std::size_t MutationLog::waiters() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [key, list] : wakers_) n += list.size();
  return n;
}

std::size_t MutationLog::sessions() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace polaris::realtime
