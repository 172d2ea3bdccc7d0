// StreamChatCompletion over Beast: plain HTTP or HTTPS (OpenSSL, peer and host-name
// verification, SNI), on the caller's executor, with connect / first-byte / idle timeouts.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "providers/provider.h"
#include "providers/sse_parser.h"

namespace polaris::providers {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxErrorBody = 64 << 10;
constexpr std::size_t kMaxPendingSse = 4 << 20;

struct Endpoint {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path of {base}/chat/completions
};

std::optional<Endpoint> ParseBase(const std::string& base) {
  auto u = boost::urls::parse_uri(base);
  if (!u || !u->has_authority()) return std::nullopt;
  Endpoint ep;
  std::string scheme(u->scheme());
  if (scheme != "http" && scheme != "https") return std::nullopt;
  ep.tls = scheme == "https";
  ep.host = std::string(u->host_address());
  ep.port = u->has_port() ? std::string(u->port()) : (ep.tls ? "443" : "80");
  std::string path(u->encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  ep.target = path + "/chat/completions";
  return ep;
}

asio::ssl::context& TlsContext() {
  static asio::ssl::context ctx = [] {
    asio::ssl::context c(asio::ssl::context::tls_client);
    c.set_default_verify_paths();
    c.set_verify_mode(asio::ssl::verify_peer);
    return c;
  }();
  return ctx;
}

StepResult Fail(Failure kind, std::string error, int status = 0) {
  StepResult r;
  r.failure = kind;
  r.error = std::move(error);
  r.http_status = status;
  return r;
}

// 400/401/403/404/422 mean the request or the key is wrong: another attempt will not help.
bool IsFatalStatus(int status) {
  return status == 400 || status == 401 || status == 403 || status == 404 || status == 422;
}

std::string ErrorMessageFromBody(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (auto* e = v.as_object().if_contains("error")) {
      if (e->is_object()) {
        if (auto* m = e->as_object().if_contains("message"); m && m->is_string()) {
          return std::string(m->get_string()).substr(0, 300);
        }
      } else if (e->is_string()) {
        return std::string(e->get_string()).substr(0, 300);
      }
    }
  }
  return "";
}

beast::tcp_stream& Tcp(beast::tcp_stream& s) {
  return s;
}
beast::tcp_stream& Tcp(beast::ssl_stream<beast::tcp_stream>& s) {
  return s.next_layer();
}

// True once the awaiting coroutine was cancelled: its pending operation then ended early.
bool Cancelled(const asio::cancellation_state& state) {
  return state.cancelled() != asio::cancellation_type::none;
}

template <class Stream>
asio::awaitable<StepResult> Exchange(Stream& stream, const Endpoint& ep,
                                     const ProviderConfig& provider, const Timeouts& timeouts,
                                     const std::string& body, TextSink& on_text) {
  const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
  auto cancelled = [&state] { return Cancelled(state); };
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, ep.target, 11};
  req.set(bhttp::field::host, ep.host);
  req.set(bhttp::field::authorization, "Bearer " + provider.api_key);
  req.set(bhttp::field::content_type, "application/json");
  req.set(bhttp::field::accept, "text/event-stream");
  req.set(bhttp::field::user_agent, "polaris-server");
  req.set("HTTP-Referer", "https://polaris.dev");
  req.set("X-Title", "Polaris IDE");
  req.body() = body;
  req.prepare_payload();

  Tcp(stream).expires_after(timeouts.first_byte);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, tuple_awaitable);
  if (cancelled()) co_return Fail(Failure::kCancelled, "cancelled");
  if (wec) co_return Fail(Failure::kRetryable, "could not send the request: " + wec.message());

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, tuple_awaitable);
  if (cancelled()) co_return Fail(Failure::kCancelled, "cancelled");
  if (hec == beast::error::timeout)
    co_return Fail(Failure::kRetryable, "no response before the first-byte timeout");
  if (hec)
    co_return Fail(Failure::kRetryable, "connection failed before the response: " + hec.message());

  const int status = static_cast<int>(parser.get().result_int());
  std::string retry_after(parser.get()[bhttp::field::retry_after]);
  char chunk[16 << 10];
  std::string error_body;
  SseParser sse;
  CompletionStream completion;
  std::vector<SseEvent> events;
  auto last_progress = Clock::now();
  bool done = false;

  while (!done && !parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    Tcp(stream).expires_at(last_progress + timeouts.idle);
    // read_some: async_read would wait for the whole buffer, holding tokens back.
    auto [ec, n] = co_await bhttp::async_read_some(stream, buffer, parser, tuple_awaitable);
    if (cancelled()) co_return Fail(Failure::kCancelled, "cancelled");
    if (ec == bhttp::error::need_buffer) ec = {};
    const std::size_t got = sizeof chunk - parser.get().body().size;
    if (status != 200) {
      error_body.append(chunk,
                        std::min(got, kMaxErrorBody - std::min(kMaxErrorBody, error_body.size())));
    } else if (got > 0) {
      events.clear();
      sse.Feed(std::string_view(chunk, got), events);
      if (sse.TakeProgress()) last_progress = Clock::now();
      if (sse.buffered() > kMaxPendingSse)
        co_return Fail(Failure::kRetryable, "unparseable stream: event too large");
      for (const auto& ev : events) {
        auto up = completion.OnData(ev.data);
        if (!up.text.empty()) co_await on_text(up.text);
        if (cancelled()) co_return Fail(Failure::kCancelled, "cancelled");
        if (up.error) co_return Fail(Failure::kRetryable, *up.error);
        if (up.done) {
          done = true;  // "[DONE]": the step is over, whatever follows
          break;
        }
      }
    }
    if (ec == beast::error::timeout)
      co_return Fail(Failure::kRetryable, "the stream stalled (idle timeout)");
    if (ec) break;  // end of stream without a clean end: Finish() decides
  }

  if (status != 200) {
    std::string msg = ErrorMessageFromBody(error_body);
    std::string sentence = provider.name + " returned HTTP " + std::to_string(status) +
                           (msg.empty() ? "" : ": " + msg);
    StepResult r =
        Fail(IsFatalStatus(status) ? Failure::kFatal : Failure::kRetryable, sentence, status);
    if (!retry_after.empty()) {
      try {
        r.retry_after = std::chrono::seconds(std::stol(retry_after));
      } catch (...) {
      }
    }
    co_return r;
  }
  if (auto err = completion.Finish()) co_return Fail(Failure::kRetryable, *err);
  StepResult r;
  r.text = completion.text();
  r.tool_calls = completion.tool_calls();
  r.finish_reason = completion.finish_reason();
  r.usage = completion.usage();
  r.http_status = status;
  co_return r;
}

}  // namespace

std::string BuildRequestBody(const ProviderConfig& provider, const StepRequest& request) {
  boost::json::object body{{"model", provider.model},
                           {"messages", request.messages},
                           {"stream", true},
                           {"stream_options", {{"include_usage", true}}},
                           {"max_completion_tokens", request.max_tokens},
                           {"temperature", request.temperature}};
  if (!request.tools.empty()) {
    body["tools"] = request.tools;
    body["tool_choice"] = "auto";
  }
  return boost::json::serialize(body);
}

asio::awaitable<StepResult> StreamChatCompletion(const ProviderConfig& provider,
                                                 const Timeouts& timeouts,
                                                 const StepRequest& request, TextSink on_text) {
  auto ep = ParseBase(provider.base_url);
  if (!ep) co_return Fail(Failure::kFatal, provider.name + ": invalid base URL");
  auto ex = co_await asio::this_coro::executor;
  const std::string body = BuildRequestBody(provider, request);

  // Socket and timer operations below are cancelled through the coroutine's cancellation
  // slot (Asio's per-operation cancellation, forwarded by the run's parallel_group).
  const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
  tcp::resolver resolver(ex);
  beast::tcp_stream tcp_stream(ex);
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;

  // The resolver takes no part in per-operation cancellation: cancel it by hand while the
  // lookup runs (the slot is cleared when the lookup completes).
  if (auto slot = state.slot(); slot.is_connected()) {
    slot.assign([&resolver](asio::cancellation_type) { resolver.cancel(); });
  }
  auto [rec, results] = co_await resolver.async_resolve(ep->host, ep->port, tuple_awaitable);
  if (Cancelled(state)) co_return Fail(Failure::kCancelled, "cancelled");
  if (rec) co_return Fail(Failure::kRetryable, provider.name + ": cannot resolve " + ep->host);

  if (!ep->tls) {
    tcp_stream.expires_after(timeouts.connect);
    auto [cec, cep] = co_await tcp_stream.async_connect(results, tuple_awaitable);
    if (Cancelled(state)) co_return Fail(Failure::kCancelled, "cancelled");
    if (cec)
      co_return Fail(Failure::kRetryable, provider.name + ": cannot connect: " + cec.message());
    tcp_stream.socket().set_option(tcp::no_delay(true));
    co_return co_await Exchange(tcp_stream, *ep, provider, timeouts, body, on_text);
  }

  tls.emplace(ex, TlsContext());
  auto& s = *tls;
  if (!SSL_set_tlsext_host_name(s.native_handle(), ep->host.c_str())) {
    co_return Fail(Failure::kRetryable, provider.name + ": TLS set-up failed");
  }
  s.set_verify_callback(asio::ssl::host_name_verification(ep->host));
  s.next_layer().expires_after(timeouts.connect);
  auto [cec, cep] = co_await s.next_layer().async_connect(results, tuple_awaitable);
  if (Cancelled(state)) co_return Fail(Failure::kCancelled, "cancelled");
  if (cec)
    co_return Fail(Failure::kRetryable, provider.name + ": cannot connect: " + cec.message());
  auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::client, tuple_awaitable);
  if (Cancelled(state)) co_return Fail(Failure::kCancelled, "cancelled");
  if (hec)
    co_return Fail(Failure::kRetryable, provider.name + ": TLS handshake failed: " + hec.message());
  co_return co_await Exchange(s, *ep, provider, timeouts, body, on_text);
}

namespace {
class HttpStreamer final : public StepStreamer {
 public:
  asio::awaitable<StepResult> Stream(const ProviderConfig& provider, const Timeouts& timeouts,
                                     const StepRequest& request, TextSink on_text) override {
    co_return co_await StreamChatCompletion(provider, timeouts, request, std::move(on_text));
  }
};
}  // namespace

StepStreamer& HttpStepStreamer() {
  static HttpStreamer streamer;
  return streamer;
}

}  // namespace polaris::providers
