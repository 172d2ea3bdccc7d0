#include "realtime/conversation_events.h"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "domain/clock.h"

namespace polaris::realtime {
namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {
constexpr std::size_t kMaxEvents = 4096;
constexpr std::size_t kMaxEventBytes = 8 << 20;
constexpr auto kIdleLogLifetime = 60s;
constexpr auto kSweepEvery = 20s;

// Whether two versions of a message differ in more than their text (a status, an error, a
// tool call): then clients get the whole document, not a delta.
bool SameExceptContent(const json::object& a, const json::object& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [key, value] : a) {
    if (key == "content") continue;
    const auto* other = b.if_contains(key);
    if (!other || *other != value) return false;
  }
  return true;
}

std::string Frame(std::int64_t id, std::string_view event, std::string_view data) {
  std::string out = "id: " + std::to_string(id) + "\nevent: ";
  out += event;
  out += "\ndata: ";
  out += data;
  out += "\n\n";
  return out;
}

std::int64_t FirstEventIdFromClock() {
  // Ids start from the clock (ms * 1000), so they keep growing across restarts too.
  return NowMillis() * 1000;
}
}  // namespace

bool ConversationLog::Ready() const {
  std::lock_guard lock(mu_);
  return ready_;
}

std::int64_t ConversationLog::last_id() const {
  std::lock_guard lock(mu_);
  return last_id_;
}

void ConversationLog::AddSignal(const std::shared_ptr<EventSignal>& signal) {
  std::lock_guard lock(mu_);
  std::erase_if(signals_, [](const auto& w) { return w.expired(); });
  signals_.push_back(signal);
}

// The document with the content clients have; the store's key order is kept.
std::string ConversationLog::Full(const MessageState& st) const {
  json::object doc = st.doc;
  doc["content"] = st.content;
  return json::serialize(doc);
}

// Built from what clients have been sent, so a snapshot and the events after it agree.
std::string ConversationLog::SnapshotJson() const {
  std::string out = "[";
  for (const auto& id : order_) {
    auto it = messages_.find(id);
    if (it == messages_.end()) continue;
    if (out.size() > 1) out += ',';
    out += Full(it->second);
  }
  out += ']';
  return out;
}

std::string ConversationLog::SnapshotFrame() const {
  return Frame(last_id_, "snapshot", SnapshotJson());
}

void ConversationLog::SendContent(const std::string& id, MessageState& st,
                                  const std::string& content) {
  if (content == st.content) return;
  if (content.starts_with(st.content)) {
    json::object delta{{"_id", id}, {"append", content.substr(st.content.size())}};
    st.content = content;
    Append("delta", json::serialize(delta));
  } else {
    st.content = content;
    Append("message", Full(st));
  }
}

void ConversationLog::OnTail(const std::string& message_id) {
  {
    std::lock_guard lock(mu_);
    // Before the first list the log has no state; that list takes the live text itself.
    if (ended_ || !ready_ || !tail_) return;
    auto it = messages_.find(message_id);
    if (it == messages_.end() || it->second.final) return;  // the commit brings it
    auto live = tail_->Content(message_id);
    if (!live) return;  // the run is over: its final commit decides
    const std::int64_t before = last_id_;
    SendContent(message_id, it->second, *live);
    it->second.from_tail = true;
    if (last_id_ == before) return;
  }
  WakeReaders();
}

ConversationLog::Batch ConversationLog::Since(std::optional<std::int64_t> cursor) const {
  std::lock_guard lock(mu_);
  Batch b;
  b.last_id = last_id_;
  b.ended = ended_;
  if (cursor && *cursor == last_id_) return b;  // nothing missed
  const std::int64_t first = events_.empty() ? last_id_ + 1 : events_.front().first;
  if (!cursor || *cursor > last_id_ || *cursor < first - 1) {
    if (!ended_) b.frames.push_back(SnapshotFrame());
    return b;
  }
  for (const auto& [id, frame] : events_) {
    if (id > *cursor) b.frames.push_back(frame);
  }
  return b;
}

void ConversationLog::Append(std::string event, std::string data) {
  ++last_id_;
  std::string frame = Frame(last_id_, event, data);
  bytes_ += frame.size();
  events_.emplace_back(last_id_, std::move(frame));
  while (events_.size() > kMaxEvents || bytes_ > kMaxEventBytes) {
    bytes_ -= events_.front().second.size();
    events_.pop_front();
  }
}

// Turns a new message list into events: new messages and changes other than content growth
// are `message` events with the whole document; content that only grew is a `delta`. The
// content of a message this process is streaming is the live tail's, which is ahead of the
// store.
void ConversationLog::OnQueryResult(std::int64_t, QueryResultPtr result) {
  {
    std::lock_guard lock(mu_);
    if (ended_) return;
    if (!result->ok) {
      ended_ = true;  // the conversation is gone (deleted with its project)
      ready_ = true;
    } else {
      const auto* list = result->value.if_array();
      if (!list) return;
      std::map<std::string, MessageState> next;
      std::vector<std::string> order;
      bool removed = false;
      for (const auto& item : *list) {
        if (!item.is_object()) continue;
        const json::object& doc = item.as_object();
        const auto* id = doc.if_contains("_id");
        const auto* content = doc.if_contains("content");
        const auto* status = doc.if_contains("status");
        if (!id || !id->is_string()) continue;
        std::string key(id->as_string());
        MessageState st;
        st.final = !status || !status->is_string() || status->as_string() != "processing";
        std::string stored;
        if (content && content->is_string()) stored = std::string(content->as_string());
        st.doc = doc;
        auto prev = messages_.find(key);
        const MessageState* before = prev == messages_.end() ? nullptr : &prev->second;
        // What clients should have: the live text while this process streams the message;
        // else the store's, unless it is only an older copy of text the tail already sent.
        std::optional<std::string> live;
        if (!st.final && tail_) live = tail_->Content(key);
        std::string want = stored;
        if (live) {
          want = std::move(*live);
          st.from_tail = true;
        } else if (before && before->from_tail && !st.final && before->content != stored &&
                   before->content.starts_with(stored)) {
          want = before->content;  // the store has not caught up with the tail yet
          st.from_tail = true;
        }
        if (!ready_) {
          st.content = std::move(want);
        } else if (!before || !SameExceptContent(before->doc, st.doc)) {
          st.content = std::move(want);
          Append("message", Full(st));
        } else {
          st.content = before->content;
          SendContent(key, st, want);
        }
        order.push_back(key);
        next.emplace(std::move(key), std::move(st));
      }
      for (const auto& [key, st] : messages_) {
        if (!next.count(key)) removed = true;
      }
      messages_ = std::move(next);
      order_ = std::move(order);
      if (ready_ && removed) Append("snapshot", SnapshotJson());  // no event says "deleted"
      ready_ = true;
    }
  }
  WakeReaders();
}

void ConversationLog::WakeReaders() {
  std::vector<std::shared_ptr<EventSignal>> wake;
  {
    std::lock_guard lock(mu_);
    for (auto& w : signals_) {
      if (auto s = w.lock()) wake.push_back(std::move(s));
    }
  }
  for (auto& s : wake) {
    asio::post(s->timer.get_executor(), [s] {
      s->fired = true;
      s->timer.cancel();
    });
  }
}

ConversationEvents::ConversationEvents(asio::any_io_executor executor, QueryHub& hub,
                                       LiveTail* tail)
    : executor_(executor),
      hub_(hub),
      tail_(tail),
      sweeper_(std::make_shared<asio::steady_timer>(executor)) {
  Sweep();
}

ConversationEvents::~ConversationEvents() {
  sweeper_->cancel();
  std::lock_guard lock(mu_);
  for (auto& [id, e] : logs_) hub_.UnsubscribeAll(e.log.get());
}

void ConversationEvents::Sweep() {
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    for (auto it = logs_.begin(); it != logs_.end();) {
      auto& e = it->second;
      if (e.log.use_count() > 1) {
        e.idle_since = now;
      } else if (now - e.idle_since > kIdleLogLifetime) {
        last_ids_[it->first] = e.log->last_id();
        hub_.UnsubscribeAll(e.log.get());
        it = logs_.erase(it);
        continue;
      }
      ++it;
    }
  }
  sweeper_->expires_after(kSweepEvery);
  sweeper_->async_wait([this, alive = std::weak_ptr<asio::steady_timer>(sweeper_)](
                           const boost::system::error_code& ec) {
    if (!ec && alive.lock()) Sweep();
  });
}

asio::awaitable<std::shared_ptr<ConversationLog>> ConversationEvents::Open(
    const std::string& conversation_id, const std::string& owner) {
  std::shared_ptr<ConversationLog> log;
  bool fresh = false;
  {
    std::lock_guard lock(mu_);
    auto& e = logs_[conversation_id];
    if (!e.log) {
      auto it = last_ids_.find(conversation_id);
      // A recreated log moves past its old ids, so a cursor from before gets a snapshot.
      std::int64_t first = it != last_ids_.end() ? it->second + 1 : FirstEventIdFromClock();
      e.log = std::make_shared<ConversationLog>(first, tail_);
      if (tail_) {
        std::weak_ptr<ConversationLog> weak_log = e.log;
        e.watch = tail_->Subscribe(conversation_id, [weak_log](const std::string& message_id) {
          if (auto l = weak_log.lock()) l->OnTail(message_id);
        });
      }
      fresh = true;
    }
    e.idle_since = std::chrono::steady_clock::now();
    log = e.log;
  }
  std::weak_ptr<QuerySubscriber> weak = log;
  if (fresh || !log->Ready()) {
    // Plain documents: SSE clients are not Convex clients, nothing needs rewriting for them.
    // The stored list only: the log follows the live tail itself.
    QuerySpec spec{"messages:getMessages", json::object{{"conversationId", conversation_id}}, owner,
                   /*convex_safe=*/false, /*live_text=*/false};
    auto first = co_await hub_.Subscribe(weak, 0, std::move(spec));
    // A push may have brought a newer list while we waited: the first result only sets the
    // starting state, it never rolls the log back.
    if (!log->Ready()) log->OnQueryResult(0, std::move(first));
  }
  co_return log;
}

}  // namespace polaris::realtime
