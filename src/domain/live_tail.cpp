#include "domain/live_tail.h"

namespace polaris {

void LiveTail::Publish(const std::string& conversation_id, const std::string& message_id,
                       const std::string& content) {
  {
    std::lock_guard lock(mu_);
    auto& current = content_[message_id];
    if (current == content) return;
    current = content;
  }
  Notify(conversation_id, message_id);
}

void LiveTail::End(const std::string& conversation_id, const std::string& message_id) {
  {
    std::lock_guard lock(mu_);
    if (!content_.erase(message_id)) return;
  }
  Notify(conversation_id, message_id);
}

std::optional<std::string> LiveTail::Content(const std::string& message_id) const {
  std::lock_guard lock(mu_);
  auto it = content_.find(message_id);
  if (it == content_.end()) return std::nullopt;
  return it->second;
}

void LiveTail::Notify(const std::string& conversation_id, const std::string& message_id) {
  std::vector<std::shared_ptr<Listener>> listeners;
  {
    std::lock_guard lock(mu_);
    auto it = watchers_.find(conversation_id);
    if (it == watchers_.end()) return;
    for (const auto& [id, l] : it->second) listeners.push_back(l);
  }
  for (const auto& l : listeners) (*l)(message_id);
}

std::unique_ptr<LiveTail::Watch> LiveTail::Subscribe(const std::string& conversation_id,
                                                     Listener listener) {
  std::lock_guard lock(mu_);
  const std::uint64_t id = next_id_++;
  watchers_[conversation_id][id] = std::make_shared<Listener>(std::move(listener));
  return std::make_unique<Watch>(this, conversation_id, id);
}

LiveTail::Watch::~Watch() {
  std::lock_guard lock(tail_->mu_);
  auto it = tail_->watchers_.find(conversation_id_);
  if (it == tail_->watchers_.end()) return;
  it->second.erase(id_);
  if (it->second.empty()) tail_->watchers_.erase(it);
}

}  // namespace polaris
