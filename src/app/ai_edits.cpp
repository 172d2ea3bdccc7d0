#include "app/ai_edits.h"

#include <boost/json/array.hpp>

#include "domain/limits.h"
#include "domain/rate_limiter.h"
#include "providers/chain.h"

namespace polaris::app {
namespace {

// Suggestions and quick edits share one per-user budget: each is a provider call.
Status TakeAiCall(AppContext& app, const std::string& user) {
  return TakeOrRefuse(app.ai_rate, user, CurrentLimits().ai_calls_per_minute, "AI requests",
                      "ai_calls_per_minute");
}

// Runs one tool-less step and returns its text. No provider, or every provider failed: the
// gateway is the problem, not this server (kUpstream, prefixed with what failed).
boost::asio::awaitable<Result<std::string>> Complete(providers::ProviderChain& chain,
                                                     boost::json::array messages, int max_tokens,
                                                     std::string log_id, std::string what) {
  providers::StepRequest req;
  req.log_id = std::move(log_id);
  req.messages = std::move(messages);
  req.max_tokens = max_tokens;
  providers::TextSink ignore = [](std::string_view) -> boost::asio::awaitable<void> { co_return; };
  std::function<boost::asio::awaitable<void>()> reset = []() -> boost::asio::awaitable<void> {
    co_return;
  };
  auto res = co_await chain.Step(req, ignore, reset);
  if (!res.ok()) co_return Error{ErrorCode::kUpstream, what + ": " + res.error, {}};
  co_return std::move(res.text);
}

}  // namespace

boost::asio::awaitable<Result<std::string>> Suggest(AppContext& app, const std::string& user,
                                                    const agent::SuggestionInput& input,
                                                    std::string log_id) {
  if (auto st = TakeAiCall(app, user); !st) co_return st.error();
  auto messages = agent::SuggestionMessages(input);
  co_return co_await Complete(app.chain, std::move(messages), 500, std::move(log_id),
                              "Failed to generate suggestion");
}

boost::asio::awaitable<Result<std::string>> QuickEdit(AppContext& app, const std::string& user,
                                                      const std::string& selected_code,
                                                      const std::string& full_code,
                                                      const std::string& instruction,
                                                      std::string log_id) {
  if (auto st = TakeAiCall(app, user); !st) co_return st.error();
  auto messages = agent::QuickEditMessages(selected_code, full_code, instruction);
  auto text = co_await Complete(app.chain, std::move(messages), 2000, std::move(log_id),
                                "Failed to generate edit");
  if (!text) co_return text.error();
  co_return agent::StripCodeFence(*text);
}

}  // namespace polaris::app
