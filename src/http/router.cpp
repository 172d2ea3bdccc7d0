#include "http/router.h"

#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <iostream>

#include "auth/jwt.h"
#include "domain/clock.h"
#include "domain/log.h"
#include "http/json_util.h"
#include "store/store.h"

namespace polaris::http {
namespace {

std::vector<std::string> SplitPattern(std::string_view pattern) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= pattern.size()) {
    std::size_t end = pattern.find('/', start);
    if (end == std::string_view::npos) end = pattern.size();
    out.emplace_back(pattern.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool SegmentsMatch(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                   Request* bind) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (!pattern[i].empty() && pattern[i][0] == ':') {
      if (path[i].empty()) return false;
      if (bind) bind->params[pattern[i].substr(1)] = path[i];
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

int Specificity(const std::vector<std::string>& segments) {
  int literal = 0;
  for (const auto& s : segments) literal += s.empty() || s[0] != ':';
  return literal;
}

std::int64_t NowWholeSeconds() {
  return static_cast<std::int64_t>(NowSeconds());
}

}  // namespace

void Router::Add(std::string method, std::string_view pattern, Handler handler, bool auth,
                 std::size_t max_body) {
  routes_.push_back(
      Route{std::move(method), SplitPattern(pattern), auth, std::move(handler), max_body});
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    return Specificity(a.segments) > Specificity(b.segments);
  });
}

const Router::Route* Router::Match(Request& req, const std::vector<std::string>& path,
                                   bool& path_known) const {
  path_known = false;
  for (const auto& r : routes_) {
    if (!SegmentsMatch(r.segments, path, nullptr)) continue;
    path_known = true;
    if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
      SegmentsMatch(r.segments, path, &req);
      return &r;
    }
  }
  return nullptr;
}

Result<VerifiedToken> Router::AuthenticatedUser(std::string_view authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() || !authorization.starts_with(kBearer)) {
    return Error{ErrorCode::kUnauthorized, "Unauthorized", {}};
  }
  return verifier_.VerifyClaims(authorization.substr(kBearer.size()), NowWholeSeconds());
}

const Router::Route* Router::Probe(std::string_view method, std::string_view target) const {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return nullptr;  // Dispatch answers 400
  std::vector<std::string> path;
  for (auto seg : url->segments()) path.push_back(seg);
  if (path.empty()) path.emplace_back();
  Request probe;
  probe.method = std::string(method);
  bool known = false;
  return Match(probe, path, known);
}

bool Router::NeedsAuth(std::string_view method, std::string_view target) const {
  const Route* route = Probe(method, target);
  return route && route->auth;
}

std::size_t Router::BodyLimit(std::string_view method, std::string_view target,
                              std::size_t general) const {
  const Route* route = Probe(method, target);
  return route && route->max_body ? route->max_body : general;
}

boost::asio::awaitable<Response> Router::Dispatch(Request& req) const {
  auto url = boost::urls::parse_origin_form(req.target);
  if (!url) co_return ErrorResponse(400, "Malformed request target");
  std::vector<std::string> path;
  for (auto seg : url->segments()) path.push_back(seg);
  if (path.empty()) path.emplace_back();
  for (auto param : url->params()) req.query[param.key] = param.value;

  bool path_known = false;
  const Route* route = Match(req, path, path_known);
  if (!route && fallback_ && !path_known && (req.method == "GET" || req.method == "HEAD") &&
      path.front() != "api") {
    co_return co_await fallback_(req);
  }
  if (!route) {
    co_return path_known ? ErrorResponse(405, "Method not allowed")
                         : ErrorResponse(404, "Not found");
  }
  // The token was checked once, by the server, before the body was read.
  if (route->auth && req.user.empty()) {
    co_return ErrorResponse(401, req.auth_refusal.empty() ? "Unauthorized" : req.auth_refusal);
  }
  try {
    co_return co_await route->handler(req);
  } catch (const StoreError& e) {
    const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
    LogWarn("request failed: the store", {{"request", req.id},
                                          {"method", req.method},
                                          {"path", path},
                                          {"error", e.what()},
                                          {"unavailable", e.unavailable}});
    if (e.unavailable) {
      auto res = ErrorResponse(503, "The database is unavailable; try again shortly");
      res.headers.emplace_back("Retry-After", "1");
      co_return res;
    }
  } catch (const std::exception& e) {
    const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
    LogError("request failed",
             {{"request", req.id}, {"method", req.method}, {"path", path}, {"error", e.what()}});
  }
  co_return ErrorResponse(500, "Internal server error");
}

}  // namespace polaris::http
