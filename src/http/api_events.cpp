// GET /api/conversations/:id/events: the conversation's message changes as Server-Sent
// Events (snapshot, message, delta), resumable with Last-Event-ID, with a 15 s heartbeat.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <chrono>

#include "domain/clock.h"
#include "domain/limits.h"
#include "domain/user_slots.h"
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

// Streams the log until the peer leaves, the server stops, or the token that opened the
// stream expires: an expired token never keeps receiving data (the client reconnects with a
// fresh one and resumes by Last-Event-ID).
awaitable<void> StreamEvents(std::shared_ptr<realtime::ConversationLog> log,
                             std::optional<std::int64_t> cursor, double valid_until,
                             BodyWriter& w) {
  auto ex = co_await asio::this_coro::executor;
  auto signal = std::make_shared<realtime::EventSignal>(ex);
  log->AddSignal(signal);
  w.OnPeerGone([signal] { signal->timer.cancel(); });
  if (!co_await w.Write("retry: 1000\n\n")) co_return;
  while (!w.Stopping() && !w.PeerGone()) {
    signal->fired = false;
    auto batch = log->Since(cursor);
    std::string out;
    for (auto& f : batch.frames) out += f;
    if (!out.empty() && !co_await w.Write(out)) co_return;
    cursor = batch.last_id;
    if (batch.ended) co_return;
    if (signal->fired) continue;  // news arrived while we were writing
    if (w.PeerGone()) co_return;  // noticed while we were writing: no timer was waiting
    const double left = valid_until - NowSeconds();
    if (left <= 0) {
      co_await w.Write("event: error\ndata: {\"error\":\"Token expired\"}\n\n");
      co_return;
    }
    // Sleep until news, the next heartbeat, or the token's expiry, whichever comes first.
    const auto to_expiry =
        std::chrono::ceil<std::chrono::milliseconds>(std::chrono::duration<double>(left));
    const bool expiry_first = to_expiry < kHeartbeat;
    signal->timer.expires_after(expiry_first ? to_expiry : kHeartbeat);
    auto [ec] = co_await signal->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!ec && !signal->fired && !expiry_first && !co_await w.Write(": heartbeat\n\n")) co_return;
  }
}

awaitable<Response> Events(StoreClient& db, realtime::ConversationEvents& events,
                           UserSlots& streams, Request& req) {
  auto conv = co_await db.Query(
      [&](Repo& repo) { return services::OwnedConversation(repo, req.user, req.params["id"]); });
  if (!conv) co_return ErrorResponse(conv.error());
  const int max_streams = CurrentLimits().max_streams_per_user;
  std::shared_ptr<UserSlots::Lease> lease = streams.TryAcquire(req.user, max_streams);
  if (!lease) {
    co_return ErrorResponse(
        LimitError(ErrorCode::kRateLimited,
                   "Too many open streams: at most " + std::to_string(max_streams) + " per user",
                   "streams_per_user", 5));
  }
  if (req.method == "HEAD") {
    Response res;  // headers only: a HEAD never streams
    res.content_type = "text/event-stream";
    co_return res;
  }
  auto log = co_await events.Open(conv->id, req.user);
  auto cursor = ParseEventId(req.last_event_id);
  Response res;
  res.content_type = "text/event-stream";
  res.headers.emplace_back("X-Accel-Buffering", "no");
  res.stream = [log, cursor, lease, valid_until = req.token_valid_until](BodyWriter& w) {
    return StreamEvents(log, cursor, valid_until, w);
  };
  co_return res;
}
}  // namespace

void RegisterEventRoutes(Router& router, StoreClient& db, realtime::ConversationEvents& events,
                         UserSlots& streams) {
  router.Add("GET", "/api/conversations/:id/events",
             [&db, &events, &streams](Request& r) { return Events(db, events, streams, r); });
}

}  // namespace polaris::http
