#pragma once
// Mutation idempotency per (sessionId, requestId): a client re-sends every unresolved
// mutation after a reconnect with the same ids, and must get the first answer again instead
// of a second execution. Kept in memory, bounded per session, idle sessions expire.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace polaris::realtime {

class MutationLog {
 public:
  enum class State { kNew, kRunning, kDone };
  struct Claim {
    State state;
    std::string response;  // the stored MutationResponse frame, when kDone
  };
  // kNew claims the request for the caller, who must then call Finish or Abandon.
  Claim Begin(const std::string& session_id, std::int64_t request_id);
  void Finish(const std::string& session_id, std::int64_t request_id, std::string response);
  void Abandon(const std::string& session_id, std::int64_t request_id);

 private:
  struct Session {
    std::map<std::int64_t, std::optional<std::string>> requests;  // nullopt while running
    std::chrono::steady_clock::time_point last_used;
  };
  void Expire(std::chrono::steady_clock::time_point now);
  std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;
  std::chrono::steady_clock::time_point last_sweep_{};
};

}  // namespace polaris::realtime
