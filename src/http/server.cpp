#include "http/server.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include "domain/limits.h"
#include "domain/log.h"
#include "domain/text.h"
#include "domain/user_slots.h"
#include "http/router.h"
#include "http/websocket.h"
#include "metrics/metrics.h"

namespace polaris::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr std::size_t kHeaderLimit = 16 << 10;  // 16 KiB of request line + headers
constexpr auto kReadTimeout = 30s;              // a whole request (or keep-alive idle time)
constexpr auto kWriteTimeout = 30s;
constexpr std::chrono::milliseconds kDrainTimeout = 1s;
constexpr std::chrono::milliseconds kRefusedDrainTimeout = 200ms;
constexpr std::size_t kMaxDrain = 4 << 20;  // bytes read (and dropped) after a refusal
// After a 413 for a body whose length was declared, up to this much of it is drained (still
// within the drain time): a client that sends the whole body before it reads gets the 413
// instead of a reset connection.
constexpr std::size_t kMaxDeclaredDrain = 32 << 20;
constexpr auto kShutdownGrace = 8s;       // SIGTERM must end the process within 10 s
constexpr auto kAcceptBackoff = 50ms;     // after EMFILE & co: retrying at once spins the CPU
constexpr int kReservedDescriptors = 64;  // files, the database, provider sockets
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// {"error": message} and, for a refusal by a limit, its name as "limit".
std::string JsonError(std::string_view message, std::string_view limit = {}) {
  std::string out = "{\"error\":\"";
  for (char c : message) {  // fixed sentences, or a token verifier's: escaped all the same
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  out += '"';
  if (!limit.empty()) {
    out += ",\"limit\":\"";
    out += limit;  // a fixed ASCII name
    out += '"';
  }
  out += '}';
  return out;
}

// A request's id for the logs: the client's (or its proxy's) X-Request-Id when it is short and
// plain, so one request can be followed across services; otherwise a number of this process.
std::string RequestId(std::string_view given) {
  const bool usable =
      !given.empty() && given.size() <= 64 && std::all_of(given.begin(), given.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
               c == ':';
      });
  if (usable) return std::string(given);
  static std::atomic<std::uint64_t> next{1};
  return "req-" + std::to_string(next.fetch_add(1, std::memory_order_relaxed));
}

Request ToRequest(bhttp::request<bhttp::string_body>&& r, bool peer_loopback) {
  Request req;
  req.id = RequestId(r["X-Request-Id"]);
  req.peer_loopback = peer_loopback;
  req.method = std::string(r.method_string());
  req.target = std::string(r.target());
  req.authorization = std::string(r[bhttp::field::authorization]);
  req.last_event_id = std::string(r["Last-Event-ID"]);
  req.idempotency_key = std::string(r["Idempotency-Key"]);
  req.accept_encoding = std::string(r[bhttp::field::accept_encoding]);
  req.body = std::move(r.body());
  return req;
}

bool IsLoopback(const tcp::socket& socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return false;
  const auto address = ep.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {  // ::ffff:127.0.0.1
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return address.is_loopback();
}

// Only "chunked" is a transfer coding we decode; Beast would pass any other coding's bytes
// through as if they were the body (RFC 9112 6.1: answer 501).
bool UnsupportedTransferEncoding(const bhttp::request_parser<bhttp::string_body>& parser) {
  const auto& h = parser.get();
  auto it = h.find(bhttp::field::transfer_encoding);
  if (it == h.end()) return false;
  return !beast::iequals(it->value(), "chunked");
}

// Raises the soft descriptor limit to the hard one and returns what connections may use.
int ConnectionBudget(int configured) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return configured;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  if (rl.rlim_cur == RLIM_INFINITY) return configured;
  const long long usable = static_cast<long long>(rl.rlim_cur) - kReservedDescriptors;
  return static_cast<int>(std::clamp<long long>(usable, 1, configured));
}
}  // namespace

// What the peer watcher of a streamed response shares with its writer.
struct PeerWatch {
  bool gone = false;
  bool done = false;  // the response ended: the watcher returns without touching the socket
  std::function<void()> wake;
};

// Waits for the peer of a streamed response to close its side (readable with nothing to
// read). Whatever a client sends meanwhile is read and dropped.
asio::awaitable<void> WatchPeer(tcp::socket& socket, std::shared_ptr<PeerWatch> watch) {
  char sink[512];
  while (true) {
    auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, tuple_awaitable);
    if (ec || watch->done) co_return;  // aborted: the socket may be gone already
    beast::error_code aec;
    const std::size_t available = socket.available(aec);
    if (!aec && available > 0) {
      socket.read_some(asio::buffer(sink, std::min(available, sizeof sink)), aec);
      if (!aec) continue;
    }
    watch->gone = true;  // readable with nothing to read: the peer closed (or an error)
    if (watch->wake) watch->wake();
    co_return;
  }
}

// Chunked body writer over a Beast stream; one per streamed response.
class ChunkWriter final : public BodyWriter {
 public:
  ChunkWriter(beast::tcp_stream& stream, const std::atomic<bool>& stopping,
              std::shared_ptr<PeerWatch> watch)
      : stream_(stream), stopping_(stopping), watch_(std::move(watch)) {}
  asio::awaitable<bool> Write(std::string_view data) override {
    if (!open_) co_return false;
    if (data.empty()) co_return true;  // an empty chunk would end the body
    stream_.expires_after(kWriteTimeout);
    auto chunk = bhttp::make_chunk(asio::const_buffer(data.data(), data.size()));
    auto [ec, n] = co_await asio::async_write(stream_, chunk, tuple_awaitable);
    if (ec) open_ = false;
    co_return open_;
  }
  void Abort() override {
    open_ = false;
    beast::error_code ec;
    stream_.socket().set_option(asio::socket_base::linger(true, 0), ec);  // RST, not FIN
    stream_.socket().close(ec);
  }
  bool Stopping() const override { return stopping_; }
  bool PeerGone() const override { return watch_->gone; }
  void OnPeerGone(std::function<void()> wake) override { watch_->wake = std::move(wake); }
  bool open() const { return open_ && !watch_->gone; }

 private:
  beast::tcp_stream& stream_;
  const std::atomic<bool>& stopping_;
  std::shared_ptr<PeerWatch> watch_;
  bool open_ = true;
};

struct Server::Impl {
  Impl(ServerOptions o, const Router& r)
      : options(std::move(o)),
        router(r),
        ioc(options.threads),
        acceptor(ioc),
        signals(ioc),
        shutdown_strand(asio::make_strand(ioc)),
        shutdown_timer(shutdown_strand) {}

  // Counts one open connection for its lifetime (the cap and the metrics gauge).
  struct ConnectionSlot {
    explicit ConnectionSlot(Impl& i) : impl(i) {
      ++impl.connections;
      if (impl.options.metrics) impl.options.metrics->AddConnections(1);
    }
    ~ConnectionSlot() {
      --impl.connections;
      if (impl.options.metrics) impl.options.metrics->AddConnections(-1);
    }
    Impl& impl;
  };

  asio::awaitable<void> Accept();
  asio::awaitable<void> Session(tcp::socket socket);
  asio::awaitable<void> RefuseConnection(tcp::socket socket);
  asio::awaitable<bool> Write(beast::tcp_stream& stream, bhttp::response<bhttp::string_body>& res);
  asio::awaitable<bool> WriteStream(beast::tcp_stream& stream, Response& out, unsigned version);
  // Answers, then closes after reading (and dropping) what the peer still sends for at most
  // `drain`, so that it gets to read the answer. limit: the name of the limit that refused
  // the request (counted, named in the body, and with Retry-After for 429 and 503).
  asio::awaitable<void> RejectAndClose(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                       int status, std::string_view message,
                                       std::string_view limit = {},
                                       std::chrono::milliseconds drain = kDrainTimeout,
                                       std::size_t drain_bytes = kMaxDrain);
  void BeginShutdown();
  // Shutdown waits on shutdown_timer; a wake cancels the wait so it checks again.
  void WakeShutdown() {
    asio::post(shutdown_strand, [this] { shutdown_timer.cancel(); });
  }

  ServerOptions options;
  const Router& router;
  // Declared before the event loop: coroutines still suspended when it is destroyed release
  // their connection and request slots into these.
  std::atomic<int> connections{0};
  UserSlots requests_in_flight;  // per user, held from the headers to the answer
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};
  asio::strand<asio::io_context::executor_type> shutdown_strand;
  asio::steady_timer shutdown_timer;
  int max_connections = 0;
  StopHook on_stop;
  std::function<bool()> idle;
  const realtime::SyncDeps* sync = nullptr;
};

asio::awaitable<void> Server::Impl::Accept() {
  while (!stopping) {
    // Each connection gets its own strand: store completions arrive from other threads, and
    // a strand keeps a coroutine from resuming while its previous step is still unwinding.
    auto strand = asio::make_strand(ioc);  // named: see "Coroutine rule" in architecture.md
    auto [ec, socket] = co_await acceptor.async_accept(strand, tuple_awaitable);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      // e.g. EMFILE: keep serving the connections we have, and wait before trying again
      // (the pending connection stays in the backlog, so accepting at once would spin).
      asio::steady_timer pause(ioc, kAcceptBackoff);
      co_await pause.async_wait(tuple_awaitable);
      continue;
    }
    beast::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    auto ex = socket.get_executor();
    if (connections.load() >= max_connections) {
      asio::co_spawn(ex, RefuseConnection(std::move(socket)), asio::detached);
      continue;
    }
    asio::co_spawn(ex, Session(std::move(socket)), asio::detached);
  }
}

asio::awaitable<bool> Server::Impl::Write(beast::tcp_stream& stream,
                                          bhttp::response<bhttp::string_body>& res) {
  res.set(bhttp::field::server, "polaris");
  res.set(bhttp::field::access_control_allow_origin, "*");
  res.prepare_payload();
  stream.expires_after(kWriteTimeout);
  auto [ec, n] = co_await bhttp::async_write(stream, res, tuple_awaitable);
  co_return !ec;
}

// Answers a request we refuse, then closes without resetting the connection: the
// peer's unread bytes are drained briefly so that it gets to read the answer.
asio::awaitable<void> Server::Impl::RejectAndClose(beast::tcp_stream& stream,
                                                   beast::flat_buffer& buffer, int status,
                                                   std::string_view message, std::string_view limit,
                                                   std::chrono::milliseconds drain,
                                                   std::size_t drain_bytes) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, "application/json");
  res.keep_alive(false);
  res.body() = JsonError(message, limit);
  LogDebug("request refused", {{"status", status}, {"error", message}, {"limit", limit}});
  if (!limit.empty()) {
    CountLimitHit(std::string(limit));
    if (status == 429 || status == 503) res.set(bhttp::field::retry_after, "1");
  }
  if (co_await Write(stream, res)) {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.expires_after(drain);
    std::size_t drained = 0;
    while (drained < drain_bytes) {
      buffer.clear();
      auto [rec, n] = co_await stream.async_read_some(buffer.prepare(64 << 10), tuple_awaitable);
      if (rec) break;
      drained += n;
    }
  }
  beast::error_code ec;
  stream.socket().close(ec);
}

// Over the connection cap: a short answer instead of silence, without reading the request.
// The descriptor is one of the reserved ones, so the drain is brief and it goes back soon.
asio::awaitable<void> Server::Impl::RefuseConnection(tcp::socket socket) {
  ConnectionSlot slot(*this);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  co_await RejectAndClose(stream, buffer, 503, "Too many connections", "connections",
                          kRefusedDrainTimeout);
}

asio::awaitable<void> Server::Impl::Session(tcp::socket socket) {
  ConnectionSlot slot(*this);
  const bool loopback = IsLoopback(socket);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (!stopping) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    const Limits& limits = CurrentLimits();
    const auto signed_in_limit = static_cast<std::size_t>(limits.max_body_bytes);
    const std::size_t anonymous_limit = options.anonymous_body_limit.value_or(
        static_cast<std::size_t>(limits.max_anonymous_body_bytes));
    // Beast checks a Content-Length against body_limit while it parses the header, before we
    // know who is asking (and the token comes first: a bad token is a 401 whatever the body).
    // So no limit there; the caller's own is applied once the token is checked.
    std::size_t body_limit = std::max(signed_in_limit, anonymous_limit);
    bool anonymous = true;
    parser.body_limit(boost::none);
    stream.expires_after(kReadTimeout);
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, tuple_awaitable);
    beast::error_code ec = hec;
    if (!ec && UnsupportedTransferEncoding(parser)) {
      co_await RejectAndClose(stream, buffer, 501, "Unsupported Transfer-Encoding");
      co_return;
    }
    // Before any body is read: an anonymous client never makes the server buffer one for a
    // route that needs a token, and a signed-in user has a bounded number of requests in
    // flight (each may hold up to a 1 MiB body).
    std::unique_ptr<UserSlots::Lease> request_slot;
    std::optional<VerifiedToken> verified;  // checked once, here; Dispatch trusts it
    std::string auth_refusal;
    if (!ec) {
      const auto& h = parser.get();
      auto user = router.AuthenticatedUser(h[bhttp::field::authorization]);
      const bool has_body = parser.chunked() || parser.content_length().value_or(0) > 0;
      if (user) {
        const int max = limits.max_requests_per_user;
        request_slot = requests_in_flight.TryAcquire(user->sub, max);
        if (!request_slot) {
          co_await RejectAndClose(stream, buffer, 429, "Too many requests in flight for this user",
                                  "requests_per_user");
          co_return;
        }
        anonymous = false;
        body_limit = router.BodyLimit(h.method_string(), h.target(), signed_in_limit);
        verified = std::move(*user);
      } else if (has_body && router.NeedsAuth(h.method_string(), h.target())) {
        co_await RejectAndClose(stream, buffer, 401, user.error().message);
        co_return;
      } else {
        body_limit = anonymous_limit;
        auth_refusal = std::move(user.error().message);
      }
      if (parser.content_length().value_or(0) > body_limit) {
        ec = bhttp::error::body_limit;
      } else {
        parser.body_limit(body_limit);  // chunked bodies are checked as they arrive
      }
    }
    if (!ec && parser.get()[bhttp::field::expect] == "100-continue") {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
      auto [cec, cn] = co_await bhttp::async_write(stream, cont, tuple_awaitable);
      ec = cec;
    }
    if (!ec && !parser.is_done()) {
      auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, tuple_awaitable);
      ec = bec;
    }
    if (ec == bhttp::error::body_limit) {
      // Named, not a temporary: see "Coroutine rule" in architecture.md.
      const std::string message = "Request body too large (limit " + HumanBytes(body_limit) +
                                  (anonymous ? " without a valid token)" : ")");
      const std::size_t declared = static_cast<std::size_t>(parser.content_length().value_or(0));
      co_await RejectAndClose(stream, buffer, 413, message, "request_body_bytes", kDrainTimeout,
                              std::clamp(declared, kMaxDrain, kMaxDeclaredDrain));
      co_return;
    }
    if (ec == bhttp::error::header_limit) {
      co_await RejectAndClose(stream, buffer, 431, "Request headers too large",
                              "request_header_bytes");
      co_return;
    }
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      break;  // the peer went away or stalled: nothing useful to answer
    }
    if (ec) {
      co_await RejectAndClose(stream, buffer, 400, "Malformed HTTP request");
      co_return;
    }

    auto raw = parser.release();
    // CORS preflight: browsers on another origin may call the API (tokens travel in the
    // Authorization header, never in cookies, so allowing any origin exposes nothing).
    if (raw.method() == bhttp::verb::options &&
        raw.find("Access-Control-Request-Method") != raw.end()) {
      bhttp::response<bhttp::string_body> res{bhttp::status::no_content, raw.version()};
      res.set(bhttp::field::access_control_allow_origin, "*");
      res.set(bhttp::field::access_control_allow_methods, "GET, POST, PUT, PATCH, DELETE, OPTIONS");
      res.set(bhttp::field::access_control_allow_headers,
              "Authorization, Content-Type, Convex-Client, Idempotency-Key, Last-Event-ID");
      res.set(bhttp::field::access_control_max_age, "86400");
      res.keep_alive(raw.keep_alive() && !stopping);
      if (!co_await Write(stream, res) || !res.keep_alive()) break;
      continue;
    }
    if (sync && IsSyncUpgrade(raw)) {
      request_slot.reset();  // a socket counts as one of the user's streams once signed in
      co_await ServeSyncSocket(std::move(stream), std::move(raw), *sync);
      co_return;
    }
    const bool keep_alive = raw.keep_alive();
    const unsigned version = raw.version();
    const bool head = raw.method() == bhttp::verb::head;
    Request req = ToRequest(std::move(raw), loopback);
    if (verified) {
      req.user = std::move(verified->sub);
      req.token_valid_until = verified->valid_until;
    } else {
      req.auth_refusal = std::move(auth_refusal);
    }
    ++in_flight;
    const auto started = std::chrono::steady_clock::now();
    Response out = co_await router.Dispatch(req);
    if (--in_flight == 0 && stopping) WakeShutdown();
    out.headers.emplace_back("X-Request-Id", req.id);
    if (LogEnabled(LogLevel::kDebug)) {
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count();
      const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
      LogDebug("request", {{"request", req.id},
                           {"method", req.method},
                           {"path", path},
                           {"status", out.status},
                           {"ms", ms},
                           {"user", req.user}});
    }
    if (out.abort_connection) break;
    if (head) {
      // The GET's status and headers, no body: a body here would be read as the start of the
      // next response by a keep-alive client.
      bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(out.status), version};
      res.set(bhttp::field::server, "polaris");
      res.set(bhttp::field::access_control_allow_origin, "*");
      res.set(bhttp::field::content_type, out.content_type);
      for (const auto& [k, v] : out.headers) res.set(k, v);
      if (!out.stream) res.content_length(out.body.size());
      res.keep_alive(keep_alive && !stopping && !out.stream);
      stream.expires_after(kWriteTimeout);
      auto [wec, wn] = co_await bhttp::async_write(stream, res, tuple_awaitable);
      if (wec || !res.keep_alive()) break;
      continue;
    }
    if (out.stream) {
      request_slot.reset();  // a stream counts as one of the user's streams instead
      if (!co_await WriteStream(stream, out, version)) break;
      continue;
    }

    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(out.status), version};
    res.set(bhttp::field::content_type, out.content_type);
    for (const auto& [k, v] : out.headers) res.set(k, v);
    res.body() = std::move(out.body);
    res.keep_alive(keep_alive && !stopping);
    if (!co_await Write(stream, res) || !res.keep_alive()) break;
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
}

// Streams a response: headers, then chunks from the producer, then the last chunk.
asio::awaitable<bool> Server::Impl::WriteStream(beast::tcp_stream& stream, Response& out,
                                                unsigned version) {
  bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(out.status), version};
  res.set(bhttp::field::server, "polaris");
  res.set(bhttp::field::access_control_allow_origin, "*");
  res.set(bhttp::field::content_type, out.content_type);
  res.set(bhttp::field::cache_control, "no-cache");
  for (const auto& [k, v] : out.headers) res.set(k, v);
  res.chunked(true);
  res.keep_alive(false);  // a stream ends with its connection
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  stream.expires_after(kWriteTimeout);
  auto [ec, n] = co_await bhttp::async_write_header(stream, sr, tuple_awaitable);
  if (ec) co_return false;
  auto watch = std::make_shared<PeerWatch>();
  asio::co_spawn(stream.get_executor(), WatchPeer(stream.socket(), watch), asio::detached);
  ChunkWriter writer(stream, stopping, watch);
  co_await out.stream(writer);
  watch->done = true;
  watch->wake = nullptr;
  beast::error_code cancel_ec;
  stream.socket().cancel(cancel_ec);  // ends the watcher's wait
  if (writer.open()) {
    stream.expires_after(kWriteTimeout);
    auto last = bhttp::make_chunk_last();
    co_await asio::async_write(stream, last, tuple_awaitable);
  }
  co_return false;
}

void Server::Impl::BeginShutdown() {
  if (stopping.exchange(true)) return;
  beast::error_code ec;
  acceptor.close(ec);
  if (on_stop) on_stop([this] { WakeShutdown(); });
  // Let requests in flight finish, then stop the loop (idle keep-alive sockets just close).
  // The check and the wait run on one strand, as does a wake: none is lost in between.
  asio::co_spawn(
      shutdown_strand,
      [this]() -> asio::awaitable<void> {
        const auto deadline = std::chrono::steady_clock::now() + kShutdownGrace;
        shutdown_timer.expires_at(deadline);
        while ((in_flight > 0 || (idle && !idle())) &&
               std::chrono::steady_clock::now() < deadline) {
          co_await shutdown_timer.async_wait(tuple_awaitable);  // a wake, or the deadline
        }
        ioc.stop();
      },
      asio::detached);
}

Server::Server(ServerOptions options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

Server::~Server() = default;

unsigned short Server::Listen() {
  impl_->max_connections = ConnectionBudget(CurrentLimits().max_connections);
  auto& a = impl_->acceptor;
  tcp::endpoint ep(asio::ip::make_address(impl_->options.host), impl_->options.port);
  a.open(ep.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
  return a.local_endpoint().port();
}

void Server::Run(StopHook on_stop, std::function<bool()> idle) {
  auto& im = *impl_;
  im.on_stop = std::move(on_stop);
  im.idle = std::move(idle);
  im.signals.add(SIGINT);
  im.signals.add(SIGTERM);
  im.signals.async_wait([&im](const beast::error_code& ec, int) {
    if (!ec) im.BeginShutdown();
  });
  asio::co_spawn(im.ioc, im.Accept(), asio::detached);
  std::vector<std::thread> threads;
  for (int i = 1; i < im.options.threads; ++i) threads.emplace_back([&im] { im.ioc.run(); });
  im.ioc.run();
  for (auto& t : threads) t.join();
}

void Server::EnableSync(const realtime::SyncDeps& deps) {
  impl_->sync = &deps;
}

asio::io_context& Server::context() {
  return impl_->ioc;
}

}  // namespace polaris::http
