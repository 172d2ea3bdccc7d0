// Raw bytes as a connection would deliver them: Beast's request parser with the limits
// http/server.cpp sets (16 KiB of headers; the body limit chosen only after the token and the
// route are known: Router::AuthenticatedUser, NeedsAuth, BodyLimit), then the server's checks
// (Transfer-Encoding, Content-Length against the limit), then the real Router::Dispatch with
// every API route on a real SQLite store. Several requests may follow each other on one
// "connection" (keep-alive). "$TOKEN" in the input is replaced by a valid bearer token.
//
// Server::Impl::Session itself only runs on a socket, so its steps are repeated here in the
// same order (see the comments naming each); everything it calls is the real code.
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "app_fixture.h"
#include "domain/limits.h"

namespace bhttp = boost::beast::http;
namespace beast = boost::beast;

namespace {

constexpr std::size_t kHeaderLimit = 16 << 10;  // http/server.cpp
constexpr int kMaxRequests = 8;

// Feeds `in` to the parser until it needs more than there is (then the stream "ends") or
// stop() holds; consumed bytes are removed from `in`.
void Feed(bhttp::request_parser<bhttp::string_body>& parser, std::string_view& in,
          beast::error_code& ec, bool (*stop)(const bhttp::request_parser<bhttp::string_body>&)) {
  while (!stop(parser)) {
    if (in.empty()) {
      parser.put_eof(ec);  // the peer closed: partial_message (or done for some bodies)
      return;
    }
    const std::size_t n = parser.put(boost::asio::const_buffer(in.data(), in.size()), ec);
    in.remove_prefix(n);
    if (ec == bhttp::error::need_more) ec = {};
    if (ec) return;
    if (n == 0) {
      // No progress with all we have (Beast wants a whole header in one buffer): the stream
      // ends here.
      parser.put_eof(ec);
      return;
    }
  }
}

bool HeaderDone(const bhttp::request_parser<bhttp::string_body>& p) {
  return p.is_header_done();
}
bool MessageDone(const bhttp::request_parser<bhttp::string_body>& p) {
  return p.is_done();
}

// http/server.cpp UnsupportedTransferEncoding: only "chunked" is decoded.
bool UnsupportedTransferEncoding(const bhttp::request_parser<bhttp::string_body>& parser) {
  const auto& h = parser.get();
  auto it = h.find(bhttp::field::transfer_encoding);
  if (it == h.end()) return false;
  return !beast::iequals(it->value(), "chunked");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& app = polaris::fuzz::App::Get();
  const auto& tenant = app.CurrentTenant();
  const std::string input = polaris::fuzz::App::Substitute(
      std::string(reinterpret_cast<const char*>(data), size), tenant);
  std::string_view in = input;
  const polaris::Limits& limits = polaris::CurrentLimits();
  const auto signed_in_limit = static_cast<std::size_t>(limits.max_body_bytes);
  const auto anonymous_limit = static_cast<std::size_t>(limits.max_anonymous_body_bytes);

  for (int i = 0; i < kMaxRequests && !in.empty(); ++i) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(boost::none);
    beast::error_code ec;
    Feed(parser, in, ec, HeaderDone);
    if (ec) return 0;  // 400 / 431 / the peer went away: the server closes
    if (UnsupportedTransferEncoding(parser)) return 0;  // 501, then close

    std::size_t body_limit;
    std::string user;
    std::string refusal;
    double valid_until = 0;
    {
      const auto& h = parser.get();
      const bool has_body = parser.chunked() || parser.content_length().value_or(0) > 0;
      auto token_user = app.AuthenticatedUser(h[bhttp::field::authorization]);
      if (token_user) {
        body_limit = app.BodyLimit(h.method_string(), h.target(), signed_in_limit);
        user = std::move(token_user->sub);
        valid_until = token_user->valid_until;
      } else if (has_body && app.NeedsAuth(h.method_string(), h.target())) {
        return 0;  // 401 before any body is read, then close
      } else {
        body_limit = anonymous_limit;
        refusal = token_user.error().message;
      }
    }
    if (parser.content_length().value_or(0) > body_limit) return 0;  // 413, then close
    parser.body_limit(body_limit);
    Feed(parser, in, ec, MessageDone);
    if (ec) return 0;  // 413 for a chunked body over the limit, 400, or the peer went away

    auto raw = parser.release();
    const bool keep_alive = raw.keep_alive();
    if (raw.method() == bhttp::verb::options &&
        raw.find("Access-Control-Request-Method") != raw.end()) {
      if (!keep_alive) return 0;
      continue;  // CORS preflight: answered by the server itself
    }
    // http/server.cpp ToRequest.
    polaris::http::Request req;
    req.method = std::string(raw.method_string());
    req.target = std::string(raw.target());
    req.authorization = std::string(raw[bhttp::field::authorization]);
    req.last_event_id = std::string(raw["Last-Event-ID"]);
    req.idempotency_key = std::string(raw["Idempotency-Key"]);
    req.accept_encoding = std::string(raw[bhttp::field::accept_encoding]);
    req.body = std::move(raw.body());
    req.user = std::move(user);
    req.token_valid_until = valid_until;
    req.auth_refusal = std::move(refusal);
    polaris::http::Response res = app.Dispatch(std::move(req));
    if (res.status == 500 || res.status < 100 || res.status > 599) {
      std::fprintf(stderr, "fuzz: %s %s answered %d: %s\n",
                   std::string(raw.method_string()).c_str(), std::string(raw.target()).c_str(),
                   res.status, res.body.c_str());
      std::abort();
    }
    app.Poll();
    if (!keep_alive || res.stream) return 0;  // a stream ends with its connection
  }
  return 0;
}
