// The Messages API (the seed page): POST/DELETE /api/messages, and GET /api/runs/:id.
// Requests are parsed and answers rendered here; the use cases live in app/messages.
#include <boost/asio/use_awaitable.hpp>

#include "app/messages.h"
#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"
#include "services/messages.h"
#include "store/store_client.h"
#include "views/documents.h"

namespace polaris::http {
namespace {
using boost::asio::awaitable;

constexpr std::size_t kMaxIdempotencyKey = 200;

awaitable<Response> Post(app::AppContext& app, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto conversation_id = RequireString(*body, "conversationId");
  if (!conversation_id) co_return ErrorResponse(conversation_id.error());
  auto text = RequireString(*body, "message");
  if (!text) co_return ErrorResponse(text.error());
  std::optional<std::string> key;
  if (!req.idempotency_key.empty()) {
    if (req.idempotency_key.size() > kMaxIdempotencyKey) {
      co_return ErrorResponse(400, "Idempotency-Key is too long");
    }
    key = req.idempotency_key;
  }
  auto posted = co_await app::SendMessage(app, req.user, *conversation_id, *text, key);
  if (!posted) co_return ErrorResponse(posted.error());
  co_return Json(200,
                 {{"success", true}, {"runId", posted->run_id}, {"messageId", posted->message_id}});
}

awaitable<Response> Cancel(app::AppContext& app, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto message_id = RequireString(*body, "messageId");
  if (!message_id) co_return ErrorResponse(message_id.error());
  auto done = co_await app::CancelMessage(app, req.user, *message_id);
  if (!done) co_return ErrorResponse(done.error());
  co_return Success();
}

awaitable<Response> GetRun(app::AppContext& app, Request& req) {
  auto run = co_await app.db.Query(
      [&](Repo& repo) { return services::GetRunForUser(repo, req.user, req.params["id"]); });
  if (!run) co_return ErrorResponse(run.error());
  co_return Json(200, views::ToJson(*run));
}

}  // namespace

void RegisterMessageRoutes(Router& router, app::AppContext& app) {
  router.Add("POST", "/api/messages", [&app](Request& r) { return Post(app, r); });
  router.Add("DELETE", "/api/messages", [&app](Request& r) { return Cancel(app, r); });
  router.Add("GET", "/api/runs/:id", [&app](Request& r) { return GetRun(app, r); });
}

}  // namespace polaris::http
