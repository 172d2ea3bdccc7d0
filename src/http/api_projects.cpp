// /api/projects: create, list, get, rename, delete (with the original's alias routes).
#include <boost/asio/use_awaitable.hpp>

#include "domain/clock.h"
#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"
#include "services/access.h"
#include "services/projects.h"
#include "store/store_client.h"
#include "views/documents.h"

namespace polaris::http {
namespace {
using boost::asio::awaitable;

awaitable<Response> Create(StoreClient& db, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto name = RequireString(*body, "name");
  if (!name) co_return ErrorResponse(name.error());
  auto created = co_await db.Transact(
      [&](Repo& repo) { return services::CreateProject(repo, req.user, *name, NowMillis()); });
  if (!created) co_return ErrorResponse(created.error());
  co_return Json(200, {{"projectId", created->id}});
}

awaitable<Response> List(StoreClient& db, Request& req) {
  std::vector<Project> projects;
  co_await db.Read([&](Repo& repo) { projects = services::ListProjects(repo, req.user); });
  co_return Json(200, views::ToJsonArray(projects));
}

awaitable<Response> Get(StoreClient& db, Request& req) {
  auto project = co_await db.Query(
      [&](Repo& repo) { return services::OwnedProject(repo, req.user, req.params["id"]); });
  if (!project) co_return ErrorResponse(project.error());
  co_return Json(200, views::ToJson(*project));
}

awaitable<Response> Rename(StoreClient& db, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto name = RequireString(*body, "name");
  if (!name) co_return ErrorResponse(name.error());
  auto st = co_await db.Transact([&](Repo& repo) {
    return services::RenameProject(repo, req.user, req.params["id"], *name, NowMillis());
  });
  if (!st) co_return ErrorResponse(st.error());
  co_return Success();
}

awaitable<Response> Delete(StoreClient& db, Request& req, const std::string& id) {
  auto st =
      co_await db.Transact([&](Repo& repo) { return services::DeleteProject(repo, req.user, id); });
  if (!st) co_return ErrorResponse(st.error());
  co_return Success();
}

}  // namespace

void RegisterProjectRoutes(Router& router, StoreClient& db) {
  auto create = [&db](Request& req) { return Create(db, req); };
  router.Add("POST", "/api/projects", create);
  router.Add("POST", "/api/projects/create", create);
  router.Add("GET", "/api/projects", [&db](Request& req) { return List(db, req); });
  router.Add("GET", "/api/projects/:id", [&db](Request& req) { return Get(db, req); });
  router.Add("PATCH", "/api/projects/:id", [&db](Request& req) { return Rename(db, req); });
  router.Add("DELETE", "/api/projects/:id",
             [&db](Request& req) { return Delete(db, req, req.params["id"]); });
  router.Add("DELETE", "/api/projects/delete", [&db](Request& req) -> awaitable<Response> {
    auto it = req.query.find("projectId");
    if (it == req.query.end()) co_return ErrorResponse(400, "Missing query parameter: projectId");
    co_return co_await Delete(db, req, it->second);
  });
}

}  // namespace polaris::http
