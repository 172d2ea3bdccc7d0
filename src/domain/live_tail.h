#pragma once
// The live text of the replies this process is streaming, beside the store: a run publishes
// each change of its message's content the moment it has it, and watchers of the conversation
// hear of it at once, without waiting for the throttled store write and its commit. The store
// stays the truth for resume, recovery and other processes; this is only what is in flight.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace polaris {

class LiveTail {
 public:
  // Called on the publisher's thread, with no lock of the tail held: the listener reads the
  // new text with Content() (it may be a replacement, not only an append).
  using Listener = std::function<void(const std::string& message_id)>;

  // The message's content is now `content` (a run starts or resumes, text arrived, or a
  // failed attempt's text was dropped). Watchers of the conversation are told.
  void Publish(const std::string& conversation_id, const std::string& message_id,
               const std::string& content);
  // The run is over (its final state is committed): the store alone speaks for the message.
  void End(const std::string& conversation_id, const std::string& message_id);
  // The live content of a message this process is streaming.
  std::optional<std::string> Content(const std::string& message_id) const;

  // Watches one conversation until the returned handle is dropped.
  class Watch {
   public:
    Watch(LiveTail* tail, std::string conversation_id, std::uint64_t id)
        : tail_(tail), conversation_id_(std::move(conversation_id)), id_(id) {}
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    LiveTail* tail_;
    std::string conversation_id_;
    std::uint64_t id_;
  };
  std::unique_ptr<Watch> Subscribe(const std::string& conversation_id, Listener listener);

 private:
  void Notify(const std::string& conversation_id, const std::string& message_id);
  mutable std::mutex mu_;
  std::map<std::string, std::string> content_;  // message id -> live content
  std::map<std::string, std::map<std::uint64_t, std::shared_ptr<Listener>>> watchers_;
  std::uint64_t next_id_ = 1;
};

}  // namespace polaris
