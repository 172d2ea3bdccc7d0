#pragma once
// The tool-less AI use cases: a code suggestion at the cursor and a quick edit of a selection,
// through the same provider chain (and fallback) as messages, each taking from the user's
// per-minute budget of AI calls.
#include <boost/asio/awaitable.hpp>
#include <string>

#include "agent/prompts.h"
#include "app/context.h"
#include "domain/result.h"

namespace polaris::app {

// The suggested text (may be empty), or 429 over budget, or kUpstream when no provider answered.
boost::asio::awaitable<Result<std::string>> Suggest(AppContext& app, const std::string& user,
                                                    const agent::SuggestionInput& input,
                                                    std::string log_id);

// The selection rewritten per the instruction (a code fence around it is removed).
boost::asio::awaitable<Result<std::string>> QuickEdit(AppContext& app, const std::string& user,
                                                      const std::string& selected_code,
                                                      const std::string& full_code,
                                                      const std::string& instruction,
                                                      std::string log_id);

}  // namespace polaris::app
