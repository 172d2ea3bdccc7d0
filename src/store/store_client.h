#pragma once
// Awaitable access to the Store from coroutines on the network threads: the job runs on a
// store thread and the coroutine resumes on its own executor once the job is done (and, for
// writes, durable). A network thread never waits on disk.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <type_traits>
#include <utility>

#include "store/store.h"

namespace polaris {

class StoreClient {
 public:
  explicit StoreClient(Store& store) : store_(store) {}
  // Both rethrow what the job threw (or a commit failure) in the awaiting coroutine.
  boost::asio::awaitable<void> Read(Store::ReadJob job);
  // For reads that may take long (the agent's read-only tools): see SubmitBackgroundRead.
  boost::asio::awaitable<void> ReadInBackground(Store::ReadJob job);
  boost::asio::awaitable<void> Write(Store::WriteJob job,
                                     Store::Durability durability = Store::Durability::kDurable);

  // The value fn(repo) returns, computed on a reader.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F&, Repo&>> Query(F fn) {
    std::optional<std::invoke_result_t<F&, Repo&>> out;
    Store::ReadJob job = [&](Repo& repo) { out.emplace(fn(repo)); };
    co_await Read(std::move(job));
    co_return std::move(*out);
  }
  // A write whose job answers a Result (or Status): its changes are kept when keep(result)
  // holds (by default, when it is ok) and rolled back otherwise; the result is returned.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F&, Repo&>> Transact(
      F fn, Store::Durability durability = Store::Durability::kDurable) {
    co_return co_await Transact(
        std::move(fn), [](const auto& r) { return r.ok(); }, durability);
  }
  template <class F, class Keep>
  boost::asio::awaitable<std::invoke_result_t<F&, Repo&>> Transact(
      F fn, Keep keep, Store::Durability durability = Store::Durability::kDurable) {
    std::optional<std::invoke_result_t<F&, Repo&>> out;
    Store::WriteJob job = [&](Repo& repo) {
      out.emplace(fn(repo));
      return keep(*out);
    };
    co_await Write(std::move(job), durability);
    co_return std::move(*out);
  }

 private:
  Store& store_;
};

}  // namespace polaris
