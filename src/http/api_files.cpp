// The file tree: /api/projects/:id/files..., /api/projects/:id/folders, /api/files/:id.
#include <boost/asio/use_awaitable.hpp>

#include "domain/clock.h"
#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"
#include "services/files.h"
#include "store/store_client.h"
#include "views/documents.h"

namespace polaris::http {
namespace {
using boost::asio::awaitable;

awaitable<Response> List(StoreClient& db, Request& req) {
  auto files = co_await db.Query(
      [&](Repo& repo) { return services::ListFilesForUser(repo, req.user, req.params["id"]); });
  if (!files) co_return ErrorResponse(files.error());
  co_return Json(200, views::ToJsonArray(*files));
}

awaitable<Response> ReadContent(StoreClient& db, Request& req) {
  auto path = req.query.find("path");
  if (path == req.query.end()) co_return ErrorResponse(400, "Missing query parameter: path");
  auto file = co_await db.Query([&](Repo& repo) {
    return services::ReadFileForUser(repo, req.user, req.params["id"], path->second);
  });
  if (!file) co_return ErrorResponse(file.error());
  co_return Json(
      200, {{"fileId", file->id}, {"path", path->second}, {"content", file->content.value_or("")}});
}

awaitable<Response> WriteContent(StoreClient& db, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto path = RequireString(*body, "path");
  if (!path) co_return ErrorResponse(path.error());
  auto content = RequireString(*body, "content");
  if (!content) co_return ErrorResponse(content.error());
  auto file = co_await db.Transact([&](Repo& repo) {
    return services::WriteFileForUser(repo, req.user, req.params["id"], *path, *content,
                                      NowMillis());
  });
  if (!file) co_return ErrorResponse(file.error());
  co_return Json(200, {{"fileId", file->id}});
}

awaitable<Response> CreateFolder(StoreClient& db, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto path = RequireString(*body, "path");
  if (!path) co_return ErrorResponse(path.error());
  auto folder = co_await db.Transact([&](Repo& repo) {
    return services::CreateFolderForUser(repo, req.user, req.params["id"], *path, NowMillis());
  });
  if (!folder) co_return ErrorResponse(folder.error());
  co_return Json(200, {{"fileId", folder->id}});
}

awaitable<Response> Update(StoreClient& db, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto name = OptionalString(*body, "name");
  if (!name) co_return ErrorResponse(name.error());
  auto content = OptionalString(*body, "content");
  if (!content) co_return ErrorResponse(content.error());
  if (!*name && !*content) co_return ErrorResponse(400, "Body must contain 'name' or 'content'");
  auto st = co_await db.Transact([&](Repo& repo) {
    return services::UpdateFileForUser(repo, req.user, req.params["id"], {*name, *content},
                                       NowMillis());
  });
  if (!st) co_return ErrorResponse(st.error());
  co_return Success();
}

awaitable<Response> Delete(StoreClient& db, Request& req) {
  auto st = co_await db.Transact([&](Repo& repo) {
    return services::DeleteFileForUser(repo, req.user, req.params["id"], NowMillis());
  });
  if (!st) co_return ErrorResponse(st.error());
  co_return Success();
}

}  // namespace

void RegisterFileRoutes(Router& router, StoreClient& db) {
  router.Add("GET", "/api/projects/:id/files", [&db](Request& r) { return List(db, r); });
  router.Add("GET", "/api/projects/:id/files/content",
             [&db](Request& r) { return ReadContent(db, r); });
  router.Add("PUT", "/api/projects/:id/files/content",
             [&db](Request& r) { return WriteContent(db, r); });
  router.Add("POST", "/api/projects/:id/folders",
             [&db](Request& r) { return CreateFolder(db, r); });
  router.Add("PATCH", "/api/files/:id", [&db](Request& r) { return Update(db, r); });
  router.Add("DELETE", "/api/files/:id", [&db](Request& r) { return Delete(db, r); });
}

}  // namespace polaris::http
