#pragma once
// Live queries shared by every subscriber: one instance per (function, arguments, user),
// re-run when a topic it read is committed, at most once per 50 ms, serialized once per new
// result and handed to every subscriber; an unchanged result is not handed out again.
// A conversation's message list also shows the live text of the replies this process is
// streaming (the live tail), pushed at most once per live interval (the first at once).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace polaris {
class Store;
class LiveTail;
}  // namespace polaris

namespace polaris::realtime {

// One result of a query: a document, immutable once handed out and shared by every
// subscriber, on any thread. Its wire text is made on first use, once.
struct QueryResult {
  bool ok = false;
  boost::json::value value;   // when ok
  std::string error_message;  // when !ok
  // Whether a subscriber holding `other` already has this result.
  bool SameAs(const QueryResult& other) const;
  // The tail of a Transition modification after its queryId: `"type":"QueryUpdated",
  // "value":…,"logLines":[],"journal":null}` (or QueryFailed with errorMessage).
  const std::string& fragment() const;

 private:
  mutable std::once_flag serialized_;
  mutable std::string fragment_;
};
using QueryResultPtr = std::shared_ptr<const QueryResult>;

QueryResultPtr MakeQuerySuccess(boost::json::value value);
QueryResultPtr MakeQueryFailure(std::string error_message);

class QuerySubscriber {
 public:
  virtual ~QuerySubscriber() = default;
  // Called on the hub's strand for each new result; must not block.
  virtual void OnQueryResult(std::int64_t query_id, QueryResultPtr result) = 0;
};

struct QuerySpec {
  std::string udf_path;  // canonical, naming a query
  boost::json::object args;
  std::string user;  // "" when unauthenticated
  // For Convex clients (see FunctionContext::convex_safe); SSE asks for plain documents.
  bool convex_safe = true;
  // Lay the live tail's text over a message list (Convex clients). SSE reads the tail itself
  // and asks for the stored list only.
  bool live_text = true;
};

class QueryHub {
 public:
  QueryHub(boost::asio::any_io_executor executor, Store& store, LiveTail* tail = nullptr,
           std::chrono::milliseconds live_interval = std::chrono::milliseconds(25));
  ~QueryHub();
  QueryHub(const QueryHub&) = delete;
  QueryHub& operator=(const QueryHub&) = delete;

  // From the store's writer thread, after a commit: re-runs the queries that read a topic.
  void OnCommit(std::vector<std::string> topics);
  // Watches a query as (subscriber, query_id); completes with its current result.
  boost::asio::awaitable<QueryResultPtr> Subscribe(std::weak_ptr<QuerySubscriber> subscriber,
                                                   std::int64_t query_id, QuerySpec spec);
  void Unsubscribe(const QuerySubscriber* subscriber, std::int64_t query_id);
  void UnsubscribeAll(const QuerySubscriber* subscriber);
  // Completes once every query the subscriber watches reflects the commits made before.
  boost::asio::awaitable<void> Settle(const QuerySubscriber* subscriber);

  struct Stats {
    std::size_t instances = 0;
    std::size_t subscriptions = 0;
    std::uint64_t runs = 0;
    std::uint64_t results_changed = 0;
  };
  boost::asio::awaitable<Stats> GetStats();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace polaris::realtime
