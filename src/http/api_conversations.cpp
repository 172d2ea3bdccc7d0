// /api/conversations and a conversation's messages (read side; posting lives with runs).
#include <boost/asio/use_awaitable.hpp>

#include "domain/clock.h"
#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"
#include "services/access.h"
#include "services/conversations.h"
#include "store/store_client.h"
#include "views/documents.h"

namespace polaris::http {
namespace {
using boost::asio::awaitable;

awaitable<Response> Create(StoreClient& db, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto project_id = RequireString(*body, "projectId");
  if (!project_id) co_return ErrorResponse(project_id.error());
  auto title = OptionalString(*body, "title");
  if (!title) co_return ErrorResponse(title.error());
  auto created = co_await db.Transact([&](Repo& repo) {
    return services::CreateConversation(repo, req.user, *project_id, *title, NowMillis());
  });
  if (!created) co_return ErrorResponse(created.error());
  co_return Json(200, {{"conversationId", created->id}});
}

awaitable<Response> ListForProject(StoreClient& db, Request& req) {
  auto list = co_await db.Query(
      [&](Repo& repo) { return services::ListConversations(repo, req.user, req.params["id"]); });
  if (!list) co_return ErrorResponse(list.error());
  co_return Json(200, views::ToJsonArray(*list));
}

awaitable<Response> Get(StoreClient& db, Request& req) {
  auto conv = co_await db.Query(
      [&](Repo& repo) { return services::OwnedConversation(repo, req.user, req.params["id"]); });
  if (!conv) co_return ErrorResponse(conv.error());
  co_return Json(200, views::ToJson(*conv));
}

awaitable<Response> Messages(StoreClient& db, Request& req) {
  auto list = co_await db.Query(
      [&](Repo& repo) { return services::ListMessages(repo, req.user, req.params["id"]); });
  if (!list) co_return ErrorResponse(list.error());
  co_return Json(200, views::ToJsonArray(*list));
}

}  // namespace

void RegisterConversationRoutes(Router& router, StoreClient& db) {
  router.Add("POST", "/api/conversations", [&db](Request& r) { return Create(db, r); });
  router.Add("GET", "/api/projects/:id/conversations",
             [&db](Request& r) { return ListForProject(db, r); });
  router.Add("GET", "/api/conversations/:id", [&db](Request& r) { return Get(db, r); });
  router.Add("GET", "/api/conversations/:id/messages",
             [&db](Request& r) { return Messages(db, r); });
}

}  // namespace polaris::http
