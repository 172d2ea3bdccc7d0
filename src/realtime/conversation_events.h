#pragma once
// Server-Sent Events for one conversation's messages: a live query on the hub turned into
// numbered events (snapshot, message, delta) kept in a bounded log, so a client that comes
// back with Last-Event-ID gets exactly what it missed, or a new snapshot when that is gone.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "realtime/query_hub.h"

namespace polaris::realtime {

// Wakes one SSE connection when its log has news (the timer lives on that connection's strand).
struct EventSignal {
  explicit EventSignal(boost::asio::any_io_executor ex) : timer(ex) {}
  boost::asio::steady_timer timer;
  bool fired = false;  // set (on the connection's strand) with the cancel: no wake-up is lost
};

class ConversationLog final : public QuerySubscriber,
                              public std::enable_shared_from_this<ConversationLog> {
 public:
  explicit ConversationLog(std::int64_t first_id) : last_id_(first_id) {}

  struct Batch {
    std::vector<std::string> frames;  // complete SSE frames, in order
    std::int64_t last_id = 0;         // the id of the last frame (the new cursor)
    bool ended = false;               // the conversation is gone: end the stream
  };
  // Frames after `cursor`: the missed events when the log still holds them all, else one
  // snapshot frame. nullopt cursor: a snapshot.
  Batch Since(std::optional<std::int64_t> cursor) const;
  bool Ready() const;
  void AddSignal(const std::shared_ptr<EventSignal>& signal);
  std::int64_t last_id() const;

  void OnQueryResult(std::int64_t query_id, QueryResultPtr result) override;

 private:
  struct MessageState {
    std::string content;
    std::string rest;  // the document without content, serialized
  };
  void Append(std::string event, std::string data);
  std::string SnapshotFrame() const;

  mutable std::mutex mu_;
  bool ready_ = false;
  bool ended_ = false;
  std::int64_t last_id_;
  std::string snapshot_;  // the latest message array (JSON)
  std::map<std::string, MessageState> messages_;
  std::deque<std::pair<std::int64_t, std::string>> events_;
  std::size_t bytes_ = 0;
  std::vector<std::weak_ptr<EventSignal>> signals_;
};

class ConversationEvents {
 public:
  ConversationEvents(boost::asio::any_io_executor executor, QueryHub& hub);
  ~ConversationEvents();
  // The log of a conversation the caller owns (checked by the caller), once it has its first
  // state. Logs without readers are dropped after a minute.
  boost::asio::awaitable<std::shared_ptr<ConversationLog>> Open(const std::string& conversation_id,
                                                                const std::string& owner);

 private:
  void Sweep();
  boost::asio::any_io_executor executor_;
  QueryHub& hub_;
  std::mutex mu_;
  struct Entry {
    std::shared_ptr<ConversationLog> log;
    std::chrono::steady_clock::time_point idle_since;
  };
  std::map<std::string, Entry> logs_;
  std::map<std::string, std::int64_t> last_ids_;  // ids keep growing when a log is recreated
  std::shared_ptr<boost::asio::steady_timer> sweeper_;
};

}  // namespace polaris::realtime
