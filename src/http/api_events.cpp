// GET /api/conversations/:id/events: the conversation's message changes as Server-Sent
// Events (snapshot, message, delta), resumable with Last-Event-ID, with a 15 s heartbeat.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"
#include "realtime/conversation_events.h"
#include "services/access.h"
#include "store/store_client.h"

namespace polaris::http {
namespace {
namespace asio = boost::asio;
using asio::awaitable;
using namespace std::chrono_literals;
constexpr auto kHeartbeat = 15s;

std::optional<std::int64_t> ParseEventId(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

awaitable<void> StreamEvents(std::shared_ptr<realtime::ConversationLog> log,
                             std::optional<std::int64_t> cursor, BodyWriter& w) {
  auto ex = co_await asio::this_coro::executor;
  auto signal = std::make_shared<realtime::EventSignal>(ex);
  log->AddSignal(signal);
  if (!co_await w.Write("retry: 1000\n\n")) co_return;
  while (!w.Stopping()) {
    signal->fired = false;
    auto batch = log->Since(cursor);
    std::string out;
    for (auto& f : batch.frames) out += f;
    if (!out.empty() && !co_await w.Write(out)) co_return;
    cursor = batch.last_id;
    if (batch.ended) co_return;
    if (signal->fired) continue;  // news arrived while we were writing
    signal->timer.expires_after(kHeartbeat);
    auto [ec] = co_await signal->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!ec && !signal->fired && !co_await w.Write(": heartbeat\n\n")) co_return;
  }
}

awaitable<Response> Events(StoreClient& db, realtime::ConversationEvents& events, Request& req) {
  Result<Conversation> conv;
  co_await db.Read(
      [&](Repo& repo) { conv = services::OwnedConversation(repo, req.user, req.params["id"]); });
  if (!conv) co_return ErrorResponse(conv.error());
  auto log = co_await events.Open(conv->id, req.user);
  auto cursor = ParseEventId(req.last_event_id);
  Response res;
  res.content_type = "text/event-stream";
  res.headers.emplace_back("X-Accel-Buffering", "no");
  res.stream = [log, cursor](BodyWriter& w) { return StreamEvents(log, cursor, w); };
  co_return res;
}
}  // namespace

void RegisterEventRoutes(Router& router, StoreClient& db, realtime::ConversationEvents& events) {
  router.Add("GET", "/api/conversations/:id/events",
             [&db, &events](Request& r) { return Events(db, events, r); });
}

}  // namespace polaris::http
