#include "realtime/functions.h"

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <climits>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <string>

#include "domain/ids.h"
#include "domain/text.h"
#include "services/access.h"
#include "services/conversations.h"
#include "services/files.h"
#include "services/projects.h"
#include "views/documents.h"

namespace polaris::realtime {
namespace json = boost::json;

namespace {

using Value = Result<json::value>;

// ---- Arguments ----------------------------------------------------------------------------
// Each body first checks its arguments against a list of fields, the way a Convex validator
// does (extra fields are refused); it then reads them with Str, OptStr and Count.

enum class Kind { kString, kNumber, kId };

struct Field {
  std::string_view name;
  Kind kind = Kind::kString;
  bool optional = false;  // absent or null
  Table table = Table::kProject;
};

constexpr Field String(std::string_view name) {
  return {name, Kind::kString, false, Table::kProject};
}
constexpr Field OptionalString(std::string_view name) {
  return {name, Kind::kString, true, Table::kProject};
}
constexpr Field Number(std::string_view name) {
  return {name, Kind::kNumber, false, Table::kProject};
}
constexpr Field Id(std::string_view name, Table table) {
  return {name, Kind::kId, false, table};
}
constexpr Field OptionalId(std::string_view name, Table table) {
  return {name, Kind::kId, true, table};
}

// The table names of the original schema, for error messages.
const char* TableName(Table table) {
  switch (table) {
    case Table::kProject:
      return "projects";
    case Table::kConversation:
      return "conversations";
    case Table::kMessage:
      return "messages";
    case Table::kFile:
      return "files";
    case Table::kRun:
      return "runs";
  }
  return "";
}

Error InvalidArgs(std::string_view what) {
  return Error::BadRequest("Invalid arguments: " + std::string(what));
}

Status CheckField(const json::object& args, const Field& f) {
  const std::string name(f.name);
  const json::value* v = args.if_contains(f.name);
  if (!v || v->is_null()) {
    if (f.optional) return Ok();
    return InvalidArgs(name + " is required");
  }
  switch (f.kind) {
    case Kind::kNumber:
      if (!v->is_number()) return InvalidArgs(name + " must be a number");
      return Ok();
    case Kind::kString:
      if (!v->is_string()) return InvalidArgs(name + " must be a string");
      return Ok();
    case Kind::kId:
      if (!v->is_string()) return InvalidArgs(name + " must be a string");
      if (!IsValidId(v->get_string(), f.table)) {
        return InvalidArgs(name + " is not a valid " + TableName(f.table) + " id");
      }
      return Ok();
  }
  return Ok();
}

Status CheckArgs(const json::object& args, std::initializer_list<Field> fields) {
  for (const Field& f : fields) {
    if (auto st = CheckField(args, f); !st) return st;
  }
  for (const auto& kv : args) {
    bool known = std::any_of(fields.begin(), fields.end(),
                             [&](const Field& f) { return f.name == kv.key(); });
    if (!known) return InvalidArgs("unexpected field " + std::string(kv.key()));
  }
  return Ok();
}

// Readers for checked arguments.
std::string Str(const json::object& args, std::string_view name) {
  return std::string(args.at(name).get_string());
}
std::optional<std::string> OptStr(const json::object& args, std::string_view name) {
  const json::value* v = args.if_contains(name);
  if (!v || v->is_null()) return std::nullopt;
  return std::string(v->get_string());
}

// A checked number that must also be a non-negative integer (a take() count), capped to int.
Result<int> Count(const json::object& args, std::string_view name) {
  const double d = args.at(name).to_number<double>();  // int64, uint64 or double
  if (!(d >= 0) || std::isinf(d) || std::floor(d) != d) {
    return InvalidArgs(std::string(name) + " must be a non-negative integer");
  }
  return static_cast<int>(std::min(d, static_cast<double>(INT_MAX)));
}

// Converts a service result to the function's value.
template <class T>
Value Render(const Result<T>& r) {
  if (!r) return r.error();
  return views::ToJson(r.value());
}
template <class T>
Value RenderArray(const Result<std::vector<T>>& r) {
  if (!r) return r.error();
  return views::ToJsonArray(r.value());
}
// Mutations that return nothing answer null.
template <class T>
Value Null(const Result<T>& r) {
  if (!r) return r.error();
  return json::value(nullptr);
}

// ---- Conversations and messages -----------------------------------------------------------

// Convex clients reject object keys that start with '$', hold non-printable-ASCII characters
// or exceed 1,024 characters, and would fail the whole query. Tool-call arguments come from
// the model, so a value with such a key is handed over as its JSON text instead.
bool ConvexSafeKeys(const json::value& v) {
  if (v.is_array()) {
    for (const auto& item : v.as_array()) {
      if (!ConvexSafeKeys(item)) return false;
    }
  } else if (v.is_object()) {
    for (const auto& [key, item] : v.as_object()) {
      if (key.empty() || key.size() > 1024 || key.front() == '$') return false;
      for (char c : key) {
        if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) >= 127)
          return false;
      }
      if (!ConvexSafeKeys(item)) return false;
    }
  }
  return true;
}

void MakeConvexSafe(json::value& v) {
  if (!ConvexSafeKeys(v)) v = json::string(json::serialize(v));
}

Value GetMessages(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("conversationId", Table::kConversation)});
  if (!checked) return checked.error();
  const std::string id = Str(args, "conversationId");
  auto conv = services::OwnedConversation(ctx.repo, ctx.user, id);
  if (!conv) return conv.error();
  json::value list = views::ToJsonArray(ctx.repo.ListMessages(id));  // ownership checked above
  if (!ctx.convex_safe) return list;
  for (auto& m : list.as_array()) {
    auto* calls = m.as_object().if_contains("toolCalls");
    if (!calls) continue;
    for (auto& call : calls->as_array()) {
      for (const char* key : {"args", "result"}) {
        if (auto* v = call.as_object().if_contains(key)) MakeConvexSafe(*v);
      }
    }
  }
  return list;
}

Value GetConversations(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("projectId", Table::kProject)});
  if (!checked) return checked.error();
  const std::string project_id = Str(args, "projectId");
  return RenderArray(services::ListConversations(ctx.repo, ctx.user, project_id));
}

Value GetConversation(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("id", Table::kConversation)});
  if (!checked) return checked.error();
  auto conv = services::OwnedConversation(ctx.repo, ctx.user, Str(args, "id"));
  return Render(conv);
}

Value CreateConversation(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("projectId", Table::kProject), OptionalString("title")});
  if (!checked) return checked.error();
  auto conv = services::CreateConversation(ctx.repo, ctx.user, Str(args, "projectId"),
                                           OptStr(args, "title"), ctx.now);
  if (!conv) return conv.error();
  return json::value(conv->id);
}

// ---- Projects -----------------------------------------------------------------------------

Value GetProjects(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {});
  if (!checked) return checked.error();
  return views::ToJsonArray(services::ListProjects(ctx.repo, ctx.user));
}

Value GetProjectsPartial(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Number("limit")});
  if (!checked) return checked.error();
  auto limit = Count(args, "limit");
  if (!limit) return limit.error();
  return views::ToJsonArray(services::ListProjects(ctx.repo, ctx.user, *limit));
}

Value GetProject(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("id", Table::kProject)});
  if (!checked) return checked.error();
  return Render(services::OwnedProject(ctx.repo, ctx.user, Str(args, "id")));
}

Value CreateProject(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {String("name")});
  if (!checked) return checked.error();
  auto project = services::CreateProject(ctx.repo, ctx.user, Str(args, "name"), ctx.now);
  if (!project) return project.error();
  return json::value(project->id);
}

Value RenameProject(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("id", Table::kProject), String("name")});
  if (!checked) return checked.error();
  return Null(
      services::RenameProject(ctx.repo, ctx.user, Str(args, "id"), Str(args, "name"), ctx.now));
}

Value DeleteProject(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("id", Table::kProject)});
  if (!checked) return checked.error();
  return Null(services::DeleteProject(ctx.repo, ctx.user, Str(args, "id")));
}

// ---- Files --------------------------------------------------------------------------------

Value GetFiles(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("projectId", Table::kProject)});
  if (!checked) return checked.error();
  const std::string project_id = Str(args, "projectId");
  return RenderArray(services::ListFilesForUser(ctx.repo, ctx.user, project_id, true));
}

// The tree without contents (a Polaris addition): what a file tree needs, cheap to re-send
// on every change.
Value GetTree(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("projectId", Table::kProject)});
  if (!checked) return checked.error();
  const std::string project_id = Str(args, "projectId");
  return RenderArray(services::ListFilesForUser(ctx.repo, ctx.user, project_id, false));
}

Value GetFile(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("id", Table::kFile)});
  if (!checked) return checked.error();
  auto file = services::OwnedFile(ctx.repo, ctx.user, Str(args, "id"));
  return Render(file);
}

Value GetFilePath(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("id", Table::kFile)});
  if (!checked) return checked.error();
  auto chain = services::FilePathForUser(ctx.repo, ctx.user, Str(args, "id"));
  if (!chain) return chain.error();
  json::array out;
  for (const auto& node : *chain) {
    out.push_back(json::object{{"_id", node.id}, {"name", node.name}});
  }
  return json::value(std::move(out));
}

Value GetFolderContents(FunctionContext& ctx, const json::object& args) {
  auto checked =
      CheckArgs(args, {Id("projectId", Table::kProject), OptionalId("parentId", Table::kFile)});
  if (!checked) return checked.error();
  const std::string project_id = Str(args, "projectId");
  return RenderArray(
      services::ListFolderForUser(ctx.repo, ctx.user, project_id, OptStr(args, "parentId")));
}

Value CreateFile(FunctionContext& ctx, const json::object& args) {
  auto checked =
      CheckArgs(args, {Id("projectId", Table::kProject), OptionalId("parentId", Table::kFile),
                       String("name"), String("content")});
  if (!checked) return checked.error();
  return Null(services::CreateNodeForUser(ctx.repo, ctx.user, Str(args, "projectId"),
                                          OptStr(args, "parentId"), Str(args, "name"),
                                          Str(args, "content"), ctx.now));
}

Value CreateFolder(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("projectId", Table::kProject),
                                  OptionalId("parentId", Table::kFile), String("name")});
  if (!checked) return checked.error();
  return Null(services::CreateNodeForUser(ctx.repo, ctx.user, Str(args, "projectId"),
                                          OptStr(args, "parentId"), Str(args, "name"), std::nullopt,
                                          ctx.now));
}

Value RenameFile(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("id", Table::kFile), String("newName")});
  if (!checked) return checked.error();
  return Null(services::RenameFileForUser(ctx.repo, ctx.user, Str(args, "id"), Str(args, "newName"),
                                          ctx.now));
}

Value DeleteFile(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("id", Table::kFile)});
  if (!checked) return checked.error();
  return Null(services::DeleteFileForUser(ctx.repo, ctx.user, Str(args, "id"), ctx.now));
}

Value UpdateFile(FunctionContext& ctx, const json::object& args) {
  auto checked = CheckArgs(args, {Id("id", Table::kFile), String("content")});
  if (!checked) return checked.error();
  services::FileUpdate update{std::nullopt, Str(args, "content")};
  return Null(services::UpdateFileForUser(ctx.repo, ctx.user, Str(args, "id"), update, ctx.now));
}

// ---- The registry -------------------------------------------------------------------------

// Every function refuses an unauthenticated caller before looking at anything else.
template <FunctionBody body>
Value Authenticated(FunctionContext& ctx, const json::object& args) {
  if (ctx.user.empty()) return Error{ErrorCode::kUnauthorized, "Unauthorized", {}};
  return body(ctx, args);
}

struct Entry {
  std::string_view path;
  Function function;
};

constexpr Entry Query(std::string_view path, FunctionBody body) {
  return {path, {FunctionKind::kQuery, body}};
}
constexpr Entry Mutation(std::string_view path, FunctionBody body) {
  return {path, {FunctionKind::kMutation, body}};
}

// Seed names first, then the original app's names for the same bodies.
constexpr std::array kFunctions{
    Query("messages:getMessages", &Authenticated<GetMessages>),
    Query("conversations:getMessages", &Authenticated<GetMessages>),
    Query("conversations:getConversations", &Authenticated<GetConversations>),
    Query("conversations:getByProject", &Authenticated<GetConversations>),
    Query("conversations:getById", &Authenticated<GetConversation>),
    Mutation("conversations:create", &Authenticated<CreateConversation>),

    Query("projects:get", &Authenticated<GetProjects>),
    Query("projects:getPartial", &Authenticated<GetProjectsPartial>),
    Query("projects:getById", &Authenticated<GetProject>),
    Mutation("projects:create", &Authenticated<CreateProject>),
    Mutation("projects:rename", &Authenticated<RenameProject>),
    Mutation("projects:deleteProject", &Authenticated<DeleteProject>),

    Query("files:getFiles", &Authenticated<GetFiles>),
    Query("files:getTree", &Authenticated<GetTree>),
    Query("files:getFile", &Authenticated<GetFile>),
    Query("files:getFilePath", &Authenticated<GetFilePath>),
    Query("files:getFolderContents", &Authenticated<GetFolderContents>),
    Mutation("files:createFile", &Authenticated<CreateFile>),
    Mutation("files:createFolder", &Authenticated<CreateFolder>),
    Mutation("files:renameFile", &Authenticated<RenameFile>),
    Mutation("files:deleteFile", &Authenticated<DeleteFile>),
    Mutation("files:updateFile", &Authenticated<UpdateFile>),
};

}  // namespace

std::string CanonicalUdfPath(std::string_view udf_path) {
  // As the convex client's canonicalizeUdfPath: the function is after the last ':'.
  std::string_view module = udf_path, name = "default";
  if (auto colon = udf_path.rfind(':'); colon != std::string_view::npos) {
    module = udf_path.substr(0, colon);
    name = udf_path.substr(colon + 1);
  }
  if (module.size() >= 3 && module.substr(module.size() - 3) == ".js") {
    module.remove_suffix(3);
  }
  std::string out(module);
  out += ':';
  out += name;
  return out;
}

const Function* FindFunction(std::string_view canonical_path) {
  for (const Entry& e : kFunctions) {
    if (e.path == canonical_path) return &e.function;
  }
  return nullptr;
}

const Function* FindFunction(std::string_view udf_path, FunctionKind kind) {
  const Function* fn = FindFunction(CanonicalUdfPath(udf_path));
  return fn && fn->kind == kind ? fn : nullptr;
}

std::string UnknownFunctionError(std::string_view udf_path) {
  return "Could not find public function for '" + ClipForEcho(udf_path) + "'";
}

std::optional<json::object> ArgsFromWire(const json::value* args) {
  if (!args) return json::object{};
  if (args->is_object()) return args->as_object();
  if (!args->is_array()) return std::nullopt;
  const auto& a = args->as_array();
  if (a.empty()) return json::object{};
  if (a.size() == 1 && a[0].is_object()) return a[0].as_object();
  return std::nullopt;
}

}  // namespace polaris::realtime
