#include "realtime/function_call.h"

#include <boost/json/serialize.hpp>
#include <chrono>

#include "domain/clock.h"
#include "domain/log.h"
#include "realtime/convex_encoding.h"
#include "store/store_client.h"

namespace polaris::realtime {
namespace asio = boost::asio;

namespace {
CallOutcome Run(Repo& repo, const Function& fn, const std::string& user,
                const boost::json::object& args) {
  FunctionContext ctx{repo, user, NowMillis()};
  auto r = fn.run(ctx, args);
  if (!r.ok()) return {false, {}, UncaughtError(r.error().message)};
  return {true, boost::json::serialize(r.value()), {}};
}
}  // namespace

asio::awaitable<CallOutcome> CallFunction(StoreClient& db, const Function& fn, std::string user,
                                          boost::json::object args) {
  CallOutcome out;
  try {
    if (fn.kind == FunctionKind::kQuery) {
      co_await db.Read([&](Repo& repo) { out = Run(repo, fn, user, args); });
    } else {
      co_await db.Write([&](Repo& repo) {
        out = Run(repo, fn, user, args);
        return out.ok;  // a failed mutation leaves nothing behind
      });
    }
  } catch (const std::exception& e) {
    LogWarn(
        "convex function failed: the store",
        {{"kind", fn.kind == FunctionKind::kQuery ? "query" : "mutation"}, {"error", e.what()}});
    out = {false, {}, "InternalServerError: the database failed; try again"};
  }
  co_return out;
}

}  // namespace polaris::realtime
