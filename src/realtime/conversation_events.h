#pragma once
// Server-Sent Events for one conversation's messages: a live query on the hub turned into
// numbered events (snapshot, message, delta) kept in a bounded log, so a client that comes
// back with Last-Event-ID gets exactly what it missed, or a new snapshot when that is gone.
// The text of a reply this process is streaming comes from the live tail the moment it
// arrives; everything else (and the text once the run is over) from commits. Both feed one
// numbered log, compared by content, so a client never gets text twice or a gap, and text
// that is taken back (a failed attempt retried elsewhere) comes with a `message` event that
// replaces the content.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/live_tail.h"
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
  ConversationLog(std::int64_t first_id, const LiveTail* tail) : tail_(tail), last_id_(first_id) {}

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
  // The live tail has news of a message of this conversation.
  void OnTail(const std::string& message_id);

 private:
  struct MessageState {
    std::string content;      // as sent to clients
    boost::json::object doc;  // the document as the store has it (keys in its order)
    bool final = false;       // no longer processing: only commits speak for it
    bool from_tail = false;   // content came from the live tail, ahead of the store
  };
  void Append(std::string event, std::string data);
  // Brings the clients' copy of one message to `content`: a delta when it only grew, the
  // whole document when it changed otherwise.
  void SendContent(const std::string& id, MessageState& st, const std::string& content);
  std::string Full(const MessageState& st) const;
  std::string SnapshotJson() const;
  std::string SnapshotFrame() const;
  void WakeReaders();

  const LiveTail* tail_;
  mutable std::mutex mu_;
  bool ready_ = false;
  bool ended_ = false;
  std::int64_t last_id_;
  std::vector<std::string> order_;  // message ids as the list has them
  std::map<std::string, MessageState> messages_;
  std::deque<std::pair<std::int64_t, std::string>> events_;
  std::size_t bytes_ = 0;
  std::vector<std::weak_ptr<EventSignal>> signals_;
};

class ConversationEvents {
 public:
  ConversationEvents(boost::asio::any_io_executor executor, QueryHub& hub,
                     LiveTail* tail = nullptr);
  ~ConversationEvents();
  // The log of a conversation the caller owns (checked by the caller), once it has its first
  // state. Logs without readers are dropped after a minute.
  boost::asio::awaitable<std::shared_ptr<ConversationLog>> Open(const std::string& conversation_id,
                                                                const std::string& owner);

 private:
  void Sweep();
  boost::asio::any_io_executor executor_;
  QueryHub& hub_;
  LiveTail* tail_;
  std::mutex mu_;
  struct Entry {
    std::shared_ptr<ConversationLog> log;
    std::unique_ptr<LiveTail::Watch> watch;  // the tail's news for this conversation
    std::chrono::steady_clock::time_point idle_since;
  };
  std::map<std::string, Entry> logs_;
  std::map<std::string, std::int64_t> last_ids_;  // ids keep growing when a log is recreated
  std::shared_ptr<boost::asio::steady_timer> sweeper_;
};

}  // namespace polaris::realtime
