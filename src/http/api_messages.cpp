// The Messages API (the seed page): POST/DELETE /api/messages, and GET /api/runs/:id.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/title.h"
#include "domain/clock.h"
#include "domain/limits.h"
#include "domain/live_tail.h"
#include "domain/rate_limiter.h"
#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"
#include "runs/run_manager.h"
#include "services/messages.h"
#include "store/store_client.h"

namespace polaris::http {
namespace {
using boost::asio::awaitable;

constexpr std::size_t kMaxIdempotencyKey = 200;

awaitable<Response> Post(AppContext& app, Request& req) {
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
  // Only a POST that would start a run takes from the user's per-minute budget (a replay or
  // a 409 costs no AI spend).
  auto admit = [&app, &req]() -> Status {
    return TakeOrRefuse(app.message_rate, req.user, CurrentLimits().messages_per_minute, "messages",
                        "messages_per_minute");
  };
  // A replayed answer keeps nothing: a request that lost the race to its twin on another
  // process may have written its user message before it found the twin's answer.
  auto posted = co_await app.db.Transact(
      [&](Repo& repo) {
        return services::PostMessage(repo, req.user, *conversation_id, *text, key, NowMillis(),
                                     admit);
      },
      [](const Result<services::PostedMessage>& r) { return r.ok() && !r->replayed; });
  if (!posted) co_return ErrorResponse(posted.error());
  if (!posted->replayed) {
    app.runs.Enqueue(posted->run_id);
    if (posted->wants_title) {
      auto ex = co_await boost::asio::this_coro::executor;  // named: see "Coroutine rule"
      boost::asio::co_spawn(ex, agent::GenerateTitle(app.db, app.chain, *conversation_id, *text),
                            boost::asio::detached);
    }
  }
  co_return Json(200,
                 {{"success", true}, {"runId", posted->run_id}, {"messageId", posted->message_id}});
}

awaitable<Response> Cancel(AppContext& app, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto message_id = RequireString(*body, "messageId");
  if (!message_id) co_return ErrorResponse(message_id.error());
  auto out = co_await app.db.Transact([&](Repo& repo) {
    // Read in the job: the text shown up to the moment the cancel commits.
    return services::CancelMessage(repo, req.user, *message_id, NowMillis(),
                                   app.tail.Content(*message_id));
  });
  if (!out) co_return ErrorResponse(out.error());
  // The message is already final in the store; this stops the provider stream and tools.
  if (out->run_id) app.runs.Cancel(*out->run_id);
  co_return Success();
}

boost::json::value RunJson(const Run& r) {
  boost::json::object o{{"_id", r.id},
                        {"messageId", r.message_id},
                        {"conversationId", r.conversation_id},
                        {"projectId", r.project_id},
                        {"status", ToString(r.status)},
                        {"attempt", r.attempt},
                        {"createdAt", r.created_at}};
  if (r.started_at) o["startedAt"] = *r.started_at;
  if (r.finished_at) o["finishedAt"] = *r.finished_at;
  if (r.provider) o["provider"] = *r.provider;
  if (r.model) o["model"] = *r.model;
  if (r.error) o["error"] = *r.error;
  return o;
}

awaitable<Response> GetRun(AppContext& app, Request& req) {
  auto run = co_await app.db.Query(
      [&](Repo& repo) { return services::GetRunForUser(repo, req.user, req.params["id"]); });
  if (!run) co_return ErrorResponse(run.error());
  co_return Json(200, RunJson(*run));
}

}  // namespace

void RegisterMessageRoutes(Router& router, AppContext& app) {
  router.Add("POST", "/api/messages", [&app](Request& r) { return Post(app, r); });
  router.Add("DELETE", "/api/messages", [&app](Request& r) { return Cancel(app, r); });
  router.Add("GET", "/api/runs/:id", [&app](Request& r) { return GetRun(app, r); });
}

}  // namespace polaris::http
