#pragma once
// Request and Response as the routes see them: plain structs, no Beast types, so route files
// stay cheap to compile.
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace polaris::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target, e.g. "/api/x?y=1"
  std::string authorization;
  std::string last_event_id;
  std::string idempotency_key;
  std::string body;
  // Filled in by the router.
  std::unordered_map<std::string, std::string> params;  // path parameters (":id")
  std::unordered_map<std::string, std::string> query;   // decoded query string
  std::string user;                                     // the token's sub, once authenticated
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace polaris::http
