// Request bodies through the real route handlers and their validators: the first byte picks a
// route (project, file, folder, bulk import, conversation, message, editor AI, Convex HTTP
// call), the rest is the JSON body. The request goes through Router::Dispatch as the server
// sends it after the token check, so each body is parsed (ParseObjectBody, RequireString, ...),
// validated and, when valid, applied to a real SQLite store by the services.
//
// Findings: a crash or sanitizer report, an answer that is not JSON, or a 500 (the router
// answers 500 for an exception a handler let escape: bad input must be a 4xx).
#include <boost/json/parse.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "app_fixture.h"

namespace {

struct Route {
  const char* method;
  const char* target;  // $PROJECT, $FILE, ... are the current tenant's ids
};

constexpr Route kRoutes[] = {
    {"POST", "/api/projects"},
    {"POST", "/api/projects/create"},
    {"PATCH", "/api/projects/$PROJECT"},
    {"PUT", "/api/projects/$PROJECT/files/content"},
    {"POST", "/api/projects/$PROJECT/folders"},
    {"PATCH", "/api/files/$FILE"},
    {"PATCH", "/api/files/$FOLDER"},
    {"POST", "/api/projects/$PROJECT/files/bulk"},
    {"POST", "/api/conversations"},
    {"POST", "/api/messages"},
    {"DELETE", "/api/messages"},
    {"POST", "/api/suggestion"},
    {"POST", "/api/quick-edit"},
    {"POST", "/api/query"},
    {"POST", "/api/mutation"},
    {"POST", "/api/function"},
};
constexpr std::size_t kRouteCount = sizeof(kRoutes) / sizeof(kRoutes[0]);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  auto& app = polaris::fuzz::App::Get();
  const auto& tenant = app.CurrentTenant();
  const Route& route = kRoutes[data[0] % kRouteCount];
  // Bit 7 of the first byte: send an Idempotency-Key (the message route's replay path).
  const bool idempotent = (data[0] & 0x80) != 0;

  polaris::http::Request req;
  req.method = route.method;
  req.target = polaris::fuzz::App::Substitute(route.target, tenant);
  req.body = polaris::fuzz::App::Substitute(
      std::string(reinterpret_cast<const char*>(data) + 1, size - 1), tenant);
  req.user = tenant.user;  // the server checked the token from the headers
  req.token_valid_until = 4e9;
  if (idempotent) req.idempotency_key = "fuzz-key";

  polaris::http::Response res = app.Dispatch(std::move(req));
  if (res.status == 500 || res.status < 200 || res.status > 599) {
    std::fprintf(stderr, "fuzz: %s %s answered %d: %s\n", route.method, route.target, res.status,
                 res.body.c_str());
    std::abort();
  }
  if (!res.stream && res.content_type == "application/json") {
    boost::system::error_code ec;
    (void)boost::json::parse(res.body, ec);
    if (ec) {
      std::fprintf(stderr, "fuzz: %s %s answered invalid JSON: %s\n", route.method, route.target,
                   res.body.c_str());
      std::abort();
    }
  }
  app.Poll();  // lets runs started by a message go on (they fail at once: no provider)
  return 0;
}
