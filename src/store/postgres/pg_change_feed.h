#pragma once
// The change feed between processes sharing one database. Each writer batch NOTIFYs the
// topics it changed, in its transaction (PostgreSQL delivers a notification at commit, and
// only if it commits); every process LISTENs on a connection of its own and hands the topics
// of the other processes' commits to its commit listener, as it does its own.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace polaris::pg {

class Connection;

class ChangeFeed {
 public:
  using Deliver = std::function<void(std::vector<std::string> topics)>;
  // When the listening connection was lost, notifications may have been missed: after it
  // reconnects it delivers topics::Everything().
  // Connects (throws PgError when it cannot), LISTENs and starts its thread. `origin` names
  // this process: notifications it sent itself are skipped.
  ChangeFeed(const std::string& conninfo, std::string origin, Deliver deliver);
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // The statements that announce `topics` (sorted, distinct) from `origin`, to run in the
  // writer's transaction before COMMIT; empty when there is nothing to announce.
  static std::string NotifySql(const std::string& origin, const std::vector<std::string>& topics);

 private:
  void Loop();
  // Reads what arrived; false when the connection broke.
  bool Drain(std::vector<std::string>& topics);

  std::string origin_;
  Deliver deliver_;
  std::unique_ptr<Connection> db_;
  std::atomic<bool> stop_{false};
  int wake_[2] = {-1, -1};  // a pipe: the destructor wakes the thread out of poll()
  std::thread thread_;
};

}  // namespace polaris::pg
