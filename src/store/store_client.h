#pragma once
// Awaitable access to the Store from coroutines on the network threads: the job runs on a
// store thread and the coroutine resumes on its own executor once the job is done (and, for
// writes, durable). A network thread never waits on disk.
#include <boost/asio/awaitable.hpp>

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

 private:
  Store& store_;
};

}  // namespace polaris
