#include "http/websocket.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <memory>

#include "domain/limits.h"
#include "domain/log.h"
#include "realtime/sync_session.h"

namespace polaris::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using namespace std::chrono_literals;

namespace {
using Socket = websocket::stream<beast::tcp_stream>;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kAnonymousFrame = 64 << 10;
constexpr std::size_t kKeptBuffer = 64 << 10;
constexpr std::size_t kReadPiece = 16 << 10;

std::string_view PathOf(std::string_view target) {
  return target.substr(0, target.find('?'));
}

// Reads client frames and hands them to the session, one at a time.
asio::awaitable<void> ReadLoop(std::shared_ptr<Socket> ws,
                               std::shared_ptr<realtime::SyncSession> session) {
  beast::flat_buffer buffer;
  const auto max_frame = static_cast<std::size_t>(CurrentLimits().ws_max_frame_bytes);
  while (true) {
    buffer.clear();
    // Before sign-in a client only sends small frames (Connect, Authenticate, queries).
    const std::size_t limit =
        session->signed_in() ? max_frame : std::min(max_frame, kAnonymousFrame);
    // Read in pieces and check the size here: Beast's own limit closes with 1009 but no
    // reason, and the reason must name the limit. Beast's is set just past ours, a backstop
    // the pieces never reach.
    ws->read_message_max(limit + kReadPiece + 1);
    beast::error_code ec;
    bool too_big = false;
    do {
      auto [rec, n] = co_await ws->async_read_some(buffer, kReadPiece, tuple_awaitable);
      ec = rec;
      too_big = !ec && buffer.size() > limit;
    } while (!ec && !too_big && !ws->is_message_done());
    if (ec) break;
    if (too_big) {
      session->RefuseFrame(limit);  // the writer closes with 1009; nothing more is read
      co_return;
    }
    if (!ws->got_text()) {
      co_await session->Handle("");  // binary frames are malformed: a protocol error
      continue;
    }
    auto text = beast::buffers_to_string(buffer.data());
    co_await session->Handle(text);
    // A large frame must not keep its buffer for the life of the connection.
    if (buffer.capacity() > kKeptBuffer) buffer.shrink_to_fit();
  }
  session->PeerClosed();
}
}  // namespace

bool IsSyncUpgrade(const UpgradeRequest& req) {
  if (!websocket::is_upgrade(req)) return false;  // GET, HTTP/1.1, Connection/Upgrade headers
  auto path = PathOf(req.target());
  if (path == "/api/sync") return true;
  constexpr std::string_view kPrefix = "/api/", kSuffix = "/sync";
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix)) return false;
  auto version = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  return !version.empty() && version.find('/') == std::string_view::npos;
}

asio::awaitable<void> ServeSyncSocket(beast::tcp_stream stream, UpgradeRequest req,
                                      const realtime::SyncDeps& deps) {
  stream.expires_never();  // the websocket's own timeouts take over
  auto ws = std::make_shared<Socket>(std::move(stream));
  websocket::stream_base::timeout timeouts{30s, 60s, true};  // idle: ping, then drop
  ws->set_option(timeouts);
  const Limits& limits = CurrentLimits();
  ws->text(true);
  // One frame per message, written in one gather write: fragmenting at the default 4 KiB
  // write buffer costs a socket write per fragment, and pushes are often larger.
  ws->auto_fragment(false);
  auto [aec] = co_await ws->async_accept(req, tuple_awaitable);
  if (aec) co_return;

  auto ex = ws->get_executor();  // the connection's strand
  auto session = std::make_shared<realtime::SyncSession>(ex, deps);
  auto reader = ReadLoop(ws, session);
  asio::co_spawn(ex, std::move(reader), asio::detached);
  // A frame not written within the timeout means the client stopped reading (the idle
  // timeout only counts what arrives, and a client can keep sending): drop the connection.
  const auto write_timeout = std::chrono::milliseconds(limits.ws_write_timeout_ms);
  asio::steady_timer watchdog(ex);
  // Which write the armed watchdog is for: a handler already queued when its write finished
  // (cancel cannot stop it then) must not close the socket during a later write.
  auto write_number = std::make_shared<std::uint64_t>(0);
  while (auto frame = co_await session->NextFrame()) {
    auto buffer = asio::buffer(*frame);
    watchdog.expires_after(write_timeout);
    watchdog.async_wait([weak = std::weak_ptr<Socket>(ws), write_number,
                         armed_for = ++*write_number](const beast::error_code& ec) {
      if (ec || armed_for != *write_number) return;  // cancelled, or that write finished
      if (auto socket = weak.lock()) {
        CountLimitHit("ws_write_timeout");
        LogInfo("websocket dropped: the client stopped reading", {{"limit", "ws_write_timeout"}});
        beast::error_code ignored;
        beast::get_lowest_layer(*socket).socket().close(ignored);
      }
    });
    auto [ec, n] = co_await ws->async_write(buffer, tuple_awaitable);
    ++*write_number;
    watchdog.cancel();
    if (ec) {
      session->PeerClosed();
      break;
    }
  }
  if (session->close_code() > 1000) {
    LogInfo("websocket closed by the server",
            {{"code", session->close_code()}, {"reason", session->close_reason()}});
  }
  if (session->close_code() >= 0 && ws->is_open()) {
    websocket::close_reason reason;
    if (session->close_code() > 0) {
      reason.code = static_cast<std::uint16_t>(session->close_code());
      reason.reason = session->close_reason();
    }
    co_await ws->async_close(reason, tuple_awaitable);
  }
}

}  // namespace polaris::http
