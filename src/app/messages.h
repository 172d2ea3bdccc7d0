#pragma once
// The Messages API's use cases, whoever asks (REST today): a message posted starts a durable
// run (and, for a new conversation, its title); a cancel makes the message final and stops
// the run wherever it is. Adapters only parse requests and render answers.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "app/context.h"
#include "domain/result.h"
#include "services/messages.h"

namespace polaris::app {

// Stores the user's message and the assistant's processing one, then queues the run.
// A replay of an earlier request with the same Idempotency-Key answers that request's ids and
// starts nothing. Only a message that starts a run takes from the user's per-minute budget.
boost::asio::awaitable<Result<services::PostedMessage>> SendMessage(
    AppContext& app, const std::string& user, const std::string& conversation_id,
    const std::string& text, const std::optional<std::string>& idempotency_key);

// processing -> cancelled, keeping the words watchers were already shown; the run stops.
boost::asio::awaitable<Status> CancelMessage(AppContext& app, const std::string& user,
                                             const std::string& message_id);

}  // namespace polaris::app
