#pragma once
// Mutation idempotency per (sessionId, requestId): a client re-sends every unresolved
// mutation after a reconnect with the same ids, and must get the first answer again instead
// of a second execution. Kept in memory and bounded three ways: answers per session, idle
// sessions expire, and the bytes of all sessions together (least recently used go first).
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace polaris::realtime {

class MutationLog {
 public:
  enum class State { kNew, kRunning, kDone };
  struct Claim {
    State state;
    std::string response;  // the stored MutationResponse frame, when kDone
  };
  // max_bytes: the budget of every session's keys and answers together.
  explicit MutationLog(std::size_t max_bytes = 64 << 20) : max_bytes_(max_bytes) {}

  // kNew claims the request for the caller, who must then call Finish or Abandon.
  Claim Begin(const std::string& session_id, std::int64_t request_id);
  // Called once (on the thread that settles it, outside the log's lock) when a request that
  // Begin found kRunning is finished or abandoned: a re-sent mutation waits for its first
  // attempt without polling. Registered only while the request still runs; false otherwise
  // (it settled meanwhile: call Begin again at once).
  bool OnSettled(const std::string& session_id, std::int64_t request_id,
                 std::function<void()> wake);
  void Finish(const std::string& session_id, std::int64_t request_id, std::string response);
  void Abandon(const std::string& session_id, std::int64_t request_id);

  std::size_t bytes() const;
  std::size_t sessions() const;
  std::size_t waiters() const;  // re-sends waiting for a first attempt

 private:
  struct Session {
    std::map<std::int64_t, std::optional<std::string>> requests;  // nullopt while running
    std::chrono::steady_clock::time_point last_used;
    std::size_t bytes = 0;
    std::list<std::string>::iterator lru;  // position in lru_ (front: most recent)
  };
  using Sessions = std::unordered_map<std::string, Session>;
  Session& Touch(const std::string& session_id, std::chrono::steady_clock::time_point now);
  void Erase(Sessions::iterator it);
  void Expire(std::chrono::steady_clock::time_point now);
  void EvictOverBudget(const std::string& keep);

  // Takes the wakers of one request (to be called after the lock is released).
  std::vector<std::function<void()>> TakeWakers(const std::string& session_id,
                                                std::int64_t request_id);

  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::int64_t>, std::vector<std::function<void()>>> wakers_;
  Sessions sessions_;
  std::list<std::string> lru_;
  std::size_t bytes_ = 0;
  std::chrono::steady_clock::time_point last_sweep_{};
};

}  // namespace polaris::realtime
