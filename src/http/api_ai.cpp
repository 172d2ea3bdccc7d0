// Tool-less AI routes: POST /api/suggestion and POST /api/quick-edit, through the same
// provider chain as messages.
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cmath>

#include "agent/prompts.h"
#include "domain/limits.h"
#include "domain/rate_limiter.h"
#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"
#include "providers/chain.h"

namespace polaris::http {
namespace {
using boost::asio::awaitable;

// Runs one tool-less step and returns its text, or an error response.
awaitable<Result<std::string>> Complete(providers::ProviderChain& chain,
                                        boost::json::array messages, int max_tokens,
                                        std::string log_id) {
  providers::StepRequest req;
  req.log_id = std::move(log_id);
  req.messages = std::move(messages);
  req.max_tokens = max_tokens;
  auto ignore = [](std::string_view) -> awaitable<void> { co_return; };
  auto reset = []() -> awaitable<void> { co_return; };
  auto res = co_await chain.Step(req, ignore, reset, nullptr);
  if (!res.ok()) {
    Error e{ErrorCode::kInternal, res.error, {}};
    co_return e;
  }
  co_return res.text;
}

// Suggestions and quick edits share one per-user budget: each is a provider call.
std::optional<Response> OverBudget(AppContext& app, const std::string& user) {
  auto st = TakeOrRefuse(app.ai_rate, user, CurrentLimits().ai_calls_per_minute, "AI requests",
                         "ai_calls_per_minute");
  if (st) return std::nullopt;
  return ErrorResponse(st.error());
}

Response Upstream(const Error& e, std::string_view what) {
  // No provider, or every provider failed: the gateway is the problem, not this server.
  return ErrorResponse(502, std::string(what) + ": " + e.message);
}

awaitable<Response> Suggestion(AppContext& app, Request& req) {
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
  if (auto busy = OverBudget(app, req.user)) co_return std::move(*busy);
  auto text = co_await Complete(app.chain, agent::SuggestionMessages(in), 500, req.id);
  if (!text) co_return Upstream(text.error(), "Failed to generate suggestion");
  co_return Json(200, {{"suggestion", *text}});
}

awaitable<Response> QuickEdit(AppContext& app, Request& req) {
  auto body = ParseObjectBody(req.body);
  if (!body) co_return ErrorResponse(body.error());
  auto selected = RequireString(*body, "selectedCode");
  if (!selected) co_return ErrorResponse(selected.error());
  auto instruction = RequireString(*body, "instruction");
  if (!instruction) co_return ErrorResponse(instruction.error());
  auto full = OptionalString(*body, "fullCode");
  if (!full) co_return ErrorResponse(full.error());
  if (instruction->empty()) co_return ErrorResponse(400, "Instruction is required");
  if (auto busy = OverBudget(app, req.user)) co_return std::move(*busy);
  // Named, not a temporary inside the co_await: see "Coroutine rule" in architecture.md.
  const std::string full_code = full->value_or("");
  auto messages = agent::QuickEditMessages(*selected, full_code, *instruction);
  auto text = co_await Complete(app.chain, std::move(messages), 2000, req.id);
  if (!text) co_return Upstream(text.error(), "Failed to generate edit");
  co_return Json(200, {{"editedCode", agent::StripCodeFence(*text)}});
}

}  // namespace

void RegisterAiRoutes(Router& router, AppContext& app) {
  router.Add("POST", "/api/suggestion", [&app](Request& r) { return Suggestion(app, r); });
  router.Add("POST", "/api/quick-edit", [&app](Request& r) { return QuickEdit(app, r); });
}

}  // namespace polaris::http
