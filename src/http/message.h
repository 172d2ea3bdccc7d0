#pragma once
// Request and Response as the routes see them: plain structs, no Beast types, so route files
// stay cheap to compile.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace polaris::http {

struct Request {
  std::string id;      // for logs: the client's X-Request-Id when sane, else one of ours
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target, e.g. "/api/x?y=1"
  std::string authorization;
  std::string last_event_id;
  std::string idempotency_key;
  std::string accept_encoding;
  std::string body;
  bool peer_loopback = false;  // the client connected from 127.0.0.0/8 or ::1
  // Filled in by the router.
  std::unordered_map<std::string, std::string> params;  // path parameters (":id")
  std::unordered_map<std::string, std::string> query;   // decoded query string
  // Filled in by the server's one authentication step (Router::AuthenticatedUser), from the
  // headers, before any body is read.
  std::string user;              // the token's sub, once authenticated
  double token_valid_until = 0;  // the token's exp (seconds), once checked
  std::string auth_refusal;      // why there is no user: the 401 sentence of a route that needs one
};

// The body of a streamed response (SSE, chunked): implemented by the server.
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  // Sends one chunk; false once the peer is gone (the producer should then return).
  virtual boost::asio::awaitable<bool> Write(std::string_view data) = 0;
  // Drops the connection at once, without ending the body (used to inject faults).
  virtual void Abort() = 0;
  // True once the server is shutting down: long-lived streams should end.
  virtual bool Stopping() const = 0;
  // True once the peer has closed its side; `wake` (set once by the producer) is called when
  // that is noticed, so a producer waiting for news can end at once instead of at its next
  // write (which frees what the stream holds, such as the user's stream slot).
  virtual bool PeerGone() const = 0;
  virtual void OnPeerGone(std::function<void()> wake) = 0;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the headers go out first and the body is produced by this coroutine.
  std::function<boost::asio::awaitable<void>(BodyWriter&)> stream;
  // When set, the connection is closed without any answer (fault injection).
  bool abort_connection = false;
};

}  // namespace polaris::http
