// /api/projects/:id/files/bulk: POST writes many files in one transaction (the page's zip
// import), GET hands back the whole tree with contents (its zip download).
#include <boost/asio/use_awaitable.hpp>

#include "domain/clock.h"
#include "domain/limits.h"
#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"
#include "services/file_import.h"
#include "store/store_client.h"

namespace polaris::http {
namespace {
using boost::asio::awaitable;
namespace json = boost::json;

Result<std::vector<services::ImportedFile>> ParseFiles(const json::object& body) {
  const json::value* files = body.if_contains("files");
  if (!files || !files->is_array()) {
    return Error::BadRequest("Body must contain 'files': an array of {path, content}");
  }
  std::vector<services::ImportedFile> out;
  out.reserve(files->as_array().size());
  std::size_t i = 0;
  for (const auto& v : files->as_array()) {
    const std::string where = "files[" + std::to_string(i++) + "]";
    const json::object* f = v.if_object();
    const json::value* path = f ? f->if_contains("path") : nullptr;
    const json::value* content = f ? f->if_contains("content") : nullptr;
    if (!path || !path->is_string() || !content || !content->is_string()) {
      return Error::BadRequest(where + " must be {path: string, content: string}");
    }
    out.push_back({std::string(path->as_string()), std::string(content->as_string())});
  }
  return out;
}

awaitable<Response> Import(StoreClient& db, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto files = ParseFiles(*body);
  if (!files) co_return ErrorResponse(files.error());
  auto result = co_await db.Transact([&](Repo& repo) {
    return services::ImportFilesForUser(repo, req.user, req.params["id"], *files, NowMillis());
  });
  if (!result) co_return ErrorResponse(result.error());
  json::array skipped;
  for (const auto& s : result->skipped) skipped.push_back({{"path", s.path}, {"reason", s.reason}});
  co_return Json(200, json::object{{"written", result->written}, {"skipped", std::move(skipped)}});
}

awaitable<Response> Export(StoreClient& db, Request& req) {
  auto tree = co_await db.Query(
      [&](Repo& repo) { return services::ExportTreeForUser(repo, req.user, req.params["id"]); });
  if (!tree) co_return ErrorResponse(tree.error());
  json::array files;
  for (const auto& f : *tree) {
    json::object o{{"path", f.path},
                   {"type", f.file.type == FileType::kFolder ? "folder" : "file"}};
    if (f.file.type == FileType::kFile) o["content"] = f.file.content.value_or("");
    files.push_back(std::move(o));
  }
  co_return Json(200, json::object{{"files", std::move(files)}});
}

}  // namespace

void RegisterFileBulkRoutes(Router& router, StoreClient& db) {
  router.Add(
      "POST", "/api/projects/:id/files/bulk", [&db](Request& r) { return Import(db, r); },
      /*auth=*/true, static_cast<std::size_t>(CurrentLimits().max_import_bytes));
  router.Add("GET", "/api/projects/:id/files/bulk", [&db](Request& r) { return Export(db, r); });
}

}  // namespace polaris::http
