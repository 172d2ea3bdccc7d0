#include "app/messages.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "agent/title.h"
#include "domain/clock.h"
#include "domain/limits.h"
#include "domain/live_tail.h"
#include "domain/rate_limiter.h"
#include "runs/run_manager.h"
#include "store/store_client.h"

namespace polaris::app {

boost::asio::awaitable<Result<services::PostedMessage>> SendMessage(
    AppContext& app, const std::string& user, const std::string& conversation_id,
    const std::string& text, const std::optional<std::string>& idempotency_key) {
  // Checked inside the transaction, once the message is known to start a run (a replay or a
  // 409 costs no AI spend).
  auto admit = [&app, &user]() -> Status {
    return TakeOrRefuse(app.message_rate, user, CurrentLimits().messages_per_minute, "messages",
                        "messages_per_minute");
  };
  // A replayed answer keeps nothing: a request that lost the race to its twin on another
  // process may have written its user message before it found the twin's answer.
  auto posted = co_await app.db.Transact(
      [&](Repo& repo) {
        return services::PostMessage(repo, user, conversation_id, text, idempotency_key,
                                     NowMillis(), admit);
      },
      [](const Result<services::PostedMessage>& r) { return r.ok() && !r->replayed; });
  if (posted.ok() && !posted->replayed) {
    app.runs.Enqueue(posted->run_id);
    if (posted->wants_title) {
      auto ex = co_await boost::asio::this_coro::executor;  // named: see "Coroutine rule"
      boost::asio::co_spawn(ex, agent::GenerateTitle(app.db, app.chain, conversation_id, text),
                            boost::asio::detached);
    }
  }
  co_return posted;
}

boost::asio::awaitable<Status> CancelMessage(AppContext& app, const std::string& user,
                                             const std::string& message_id) {
  auto out = co_await app.db.Transact([&](Repo& repo) {
    // Read in the job: the text shown up to the moment the cancel commits.
    return services::CancelMessage(repo, user, message_id, NowMillis(),
                                   app.tail.Content(message_id));
  });
  if (!out) co_return out.error();
  // The message is already final in the store; this stops the provider stream and tools.
  if (out->run_id) app.runs.Cancel(*out->run_id);
  co_return Ok();
}

}  // namespace polaris::app
