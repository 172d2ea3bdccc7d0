// Tool-less AI routes: POST /api/suggestion and POST /api/quick-edit. Requests are parsed
// and answers rendered here; the use cases live in app/ai_edits.
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cmath>

#include "app/ai_edits.h"
#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"

namespace polaris::http {
namespace {
using boost::asio::awaitable;

awaitable<Response> Suggestion(app::AppContext& app, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  agent::SuggestionInput in;
  std::pair<const char*, std::string*> fields[] = {{"fileName", &in.file_name},
                                                   {"code", &in.code},
                                                   {"currentLine", &in.current_line},
                                                   {"previousLines", &in.previous_lines},
                                                   {"textBeforeCursor", &in.text_before_cursor},
                                                   {"textAfterCursor", &in.text_after_cursor},
                                                   {"nextLines", &in.next_lines}};
  for (auto& [key, out] : fields) {
    auto v = OptionalString(*body, key);
    if (!v) co_return ErrorResponse(v.error());
    *out = v->value_or("");
  }
  if (in.code.empty()) co_return ErrorResponse(400, "Code is required");
  if (auto* ln = body->if_contains("lineNumber")) {
    // Any JSON number may arrive (1e300, -0.5, 2^64): only a line number in range converts.
    constexpr double kMaxLine = 1e9;
    const double d = ln->is_number() ? ln->to_number<double>() : -1;
    if (!ln->is_number() || !std::isfinite(d) || d < 0 || d > kMaxLine) {
      co_return ErrorResponse(400, "Field 'lineNumber' must be a line number");
    }
    in.line_number = static_cast<long long>(d);
  }
  auto text = co_await app::Suggest(app, req.user, in, req.id);
  if (!text) co_return ErrorResponse(text.error());
  co_return Json(200, {{"suggestion", *text}});
}

awaitable<Response> QuickEdit(app::AppContext& app, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto selected = RequireString(*body, "selectedCode");
  if (!selected) co_return ErrorResponse(selected.error());
  auto instruction = RequireString(*body, "instruction");
  if (!instruction) co_return ErrorResponse(instruction.error());
  auto full = OptionalString(*body, "fullCode");
  if (!full) co_return ErrorResponse(full.error());
  if (instruction->empty()) co_return ErrorResponse(400, "Instruction is required");
  // Named, not a temporary inside the co_await: see "Coroutine rule" in architecture.md.
  const std::string full_code = full->value_or("");
  auto edited = co_await app::QuickEdit(app, req.user, *selected, full_code, *instruction, req.id);
  if (!edited) co_return ErrorResponse(edited.error());
  co_return Json(200, {{"editedCode", *edited}});
}

}  // namespace

void RegisterAiRoutes(Router& router, app::AppContext& app) {
  router.Add("POST", "/api/suggestion", [&app](Request& r) { return Suggestion(app, r); });
  router.Add("POST", "/api/quick-edit", [&app](Request& r) { return QuickEdit(app, r); });
}

}  // namespace polaris::http
