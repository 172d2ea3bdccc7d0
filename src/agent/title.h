#pragma once
// Background title generation: a conversation still titled "New conversation" gets a short
// title from its first user message. Failures are swallowed: a title never affects a message.
#include <boost/asio/awaitable.hpp>
#include <string>

namespace polaris {
class StoreClient;
namespace providers {
class ProviderChain;
}
}  // namespace polaris

namespace polaris::agent {

boost::asio::awaitable<void> GenerateTitle(StoreClient& db, providers::ProviderChain& chain,
                                           std::string conversation_id, std::string first_message);

}  // namespace polaris::agent
