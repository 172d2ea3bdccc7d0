// The Convex HTTP API used by ConvexHttpClient (the `convex` npm package's HTTP client):
// /api/query, /api/mutation, /api/function, /api/query_ts, /api/query_at_ts; /api/action answers an
// error.
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"
#include "realtime/commit_clock.h"
#include "realtime/convex_encoding.h"
#include "realtime/function_call.h"
#include "realtime/functions.h"

namespace polaris::http {
namespace {
using boost::asio::awaitable;
namespace json = boost::json;
using realtime::FunctionKind;

// Convex's status for a function that ran and failed: the client reads errorMessage.
constexpr int kFunctionFailed = 560;

Response Failure(std::string_view message) {
  Response r;
  r.status = kFunctionFailed;
  r.body = "{\"status\":\"error\",\"errorMessage\":" + json::serialize(json::string(message)) +
           ",\"logLines\":[]}";
  return r;
}

Response Success(const std::string& value_json) {
  Response r;
  r.body = "{\"status\":\"success\",\"value\":" + value_json + ",\"logLines\":[]}";
  return r;
}

// kind: the kind the route runs, or nullopt for /api/function (any kind).
awaitable<Response> Call(StoreClient& db, Request& req, std::optional<FunctionKind> kind) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto path = RequireString(*body, "path");
  if (!path) co_return ErrorResponse(path.error());
  auto args = realtime::ArgsFromWire(body->if_contains("args"));
  if (!args) co_return ErrorResponse(400, "Invalid args: expected [object] or object");
  const realtime::Function* fn = kind ? realtime::FindFunction(*path, *kind)
                                      : realtime::FindFunction(realtime::CanonicalUdfPath(*path));
  if (!fn) co_return Failure(realtime::UnknownFunctionError(*path));
  auto outcome = co_await realtime::CallFunction(db, *fn, req.user, std::move(*args));
  if (!outcome.ok) co_return Failure(outcome.error_message);
  co_return Success(outcome.value_json);
}
}  // namespace

void RegisterConvexRoutes(Router& router, StoreClient& db, realtime::CommitClock& clock) {
  router.Add("POST", "/api/query",
             [&db](Request& req) { return Call(db, req, FunctionKind::kQuery); });
  // Reads are always at the latest commit: a ts from /api/query_ts is never in the future.
  router.Add("POST", "/api/query_at_ts",
             [&db](Request& req) { return Call(db, req, FunctionKind::kQuery); });
  router.Add("POST", "/api/mutation",
             [&db](Request& req) { return Call(db, req, FunctionKind::kMutation); });
  router.Add("POST", "/api/function", [&db](Request& req) { return Call(db, req, std::nullopt); });
  // convex 1.48.0 sends query_ts without Authorization; a timestamp reveals nothing.
  router.Add(
      "POST", "/api/query_ts",
      [&clock](Request&) -> awaitable<Response> {
        co_return Json(200, {{"ts", realtime::EncodeTs(clock.Latest())}});
      },
      /*auth=*/false);
  router.Add("POST", "/api/action", [](Request&) -> awaitable<Response> {
    co_return Failure("Actions are not supported: this server has queries and mutations only");
  });
}

}  // namespace polaris::http
