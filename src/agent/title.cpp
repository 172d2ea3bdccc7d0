#include "agent/title.h"

#include <boost/asio/use_awaitable.hpp>

#include "agent/prompts.h"
#include "domain/clock.h"
#include "domain/log.h"
#include "providers/chain.h"
#include "services/conversations.h"
#include "store/store_client.h"

namespace polaris::agent {

boost::asio::awaitable<void> GenerateTitle(StoreClient& db, providers::ProviderChain& chain,
                                           std::string conversation_id, std::string first_message) {
  if (chain.empty()) co_return;
  try {
    providers::StepRequest req;
    req.messages = TitleMessages(first_message);
    req.max_tokens = 50;
    req.temperature = 0;
    req.log_id = "title of " + conversation_id;
    auto ignore = [](std::string_view) -> boost::asio::awaitable<void> { co_return; };
    auto reset = []() -> boost::asio::awaitable<void> { co_return; };
    auto res = co_await chain.Step(req, ignore, reset);
    if (!res.ok()) co_return;
    std::string title = CleanTitle(res.text);
    if (title.empty()) co_return;
    co_await db.Write([&](Repo& repo) {
      auto conv = repo.GetConversation(conversation_id);
      // Only replace the default: the user may have renamed it meanwhile.
      if (!conv || conv->title != services::kDefaultConversationTitle) return false;
      repo.UpdateConversationTitle(conversation_id, title, NowMillis());
      return true;
    });
  } catch (const std::exception& e) {
    // A title is a nicety; the conversation keeps its default one.
    LogWarn("title not set", {{"conversation", conversation_id}, {"error", e.what()}});
  }
}

}  // namespace polaris::agent
