#pragma once
// One call of a Convex function outside a subscription (a mutation, or a query over HTTP):
// queries run as a store read, mutations as one durable write that is rolled back when the
// function fails.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "realtime/functions.h"

namespace polaris {
class StoreClient;
}

namespace polaris::realtime {

struct CallOutcome {
  bool ok = false;
  std::string value_json;     // when ok
  std::string error_message;  // when !ok, e.g. "Uncaught Error: Conversation not found"
};

boost::asio::awaitable<CallOutcome> CallFunction(StoreClient& db, const Function& fn,
                                                 std::string user, boost::json::object args);

}  // namespace polaris::realtime
