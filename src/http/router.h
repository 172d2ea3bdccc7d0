#pragma once
// The route table: method + path pattern ("/api/projects/:id") -> handler. Unknown paths are
// 404, known paths with another method 405; routes that need auth get the token checked
// before the handler (and so before the body) is looked at.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.h"
#include "domain/result.h"
#include "http/message.h"

namespace polaris::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

class Router {
 public:
  explicit Router(const TokenVerifier& verifier) : verifier_(verifier) {}
  // Literal segments win over ":param" segments, whatever the order of registration.
  // max_body: this route's own body limit for a signed-in caller (0: the general one).
  void Add(std::string method, std::string_view pattern, Handler handler, bool auth = true,
           std::size_t max_body = 0);
  // Serves GET and HEAD requests outside /api/ that no route matches (the web page).
  void SetFallback(Handler handler) { fallback_ = std::move(handler); }
  boost::asio::awaitable<Response> Dispatch(Request& req) const;
  // The one authentication step, run by the server on the headers before it reads a body:
  // the user a bearer header authenticates (or the 401 sentence), and whether (method,
  // target) is a route that needs one. Dispatch trusts the Request's `user` and
  // `auth_refusal` that the server filled in from it, and never checks a token itself.
  Result<VerifiedToken> AuthenticatedUser(std::string_view authorization) const;
  bool NeedsAuth(std::string_view method, std::string_view target) const;
  // The body limit of the route (method, target) for a signed-in caller, else `general`.
  std::size_t BodyLimit(std::string_view method, std::string_view target,
                        std::size_t general) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    bool auth;
    Handler handler;
    std::size_t max_body;
  };
  const Route* Probe(std::string_view method, std::string_view target) const;
  const Route* Match(Request& req, const std::vector<std::string>& path, bool& path_known) const;
  const TokenVerifier& verifier_;
  std::vector<Route> routes_;
  Handler fallback_;
};

}  // namespace polaris::http
