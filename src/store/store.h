#pragma once
// Store: runs Repo jobs off the network threads. Reads run on reader threads; writes go to one
// writer that commits every pending write in a single transaction (group commit), fsynced
// whenever it holds a durable write.
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/repo.h"

namespace polaris {

// What a store throws when a job or a commit fails. `unavailable`: the database cannot take
// the request right now (disk full, I/O error, locked, out of memory) and a retry may work;
// the HTTP layer answers 503 with Retry-After.
struct StoreError : std::runtime_error {
  StoreError(const std::string& what, bool unavailable)
      : std::runtime_error(what), unavailable(unavailable) {}
  bool unavailable;
};

class Store {
 public:
  // A write job returns true to keep its changes, false to roll back just its own changes.
  using WriteJob = std::function<bool(Repo&)>;
  using ReadJob = std::function<void(Repo&)>;
  // Called on a store thread once the job has run (and, for writes, is durable); the
  // exception_ptr is set when the job threw or the commit failed.
  using Done = std::function<void(std::exception_ptr)>;
  // kDurable: done means the write survives power loss (the commit is fsynced).
  // kRelaxed: done means the write is committed and visible and survives a process crash; a
  // power loss may drop it until the next durable commit or checkpoint syncs the log. For
  // writes that are superseded anyway, such as the periodic content of a streaming reply.
  enum class Durability { kDurable, kRelaxed };

  virtual ~Store() = default;
  // Told, on the writer thread, the topics each committed batch changed (deduplicated),
  // after the commit and before any of its jobs completes. Set once, before the first write.
  using CommitListener = std::function<void(std::vector<std::string> topics)>;
  virtual void SetCommitListener(CommitListener listener) = 0;

  virtual void SubmitRead(ReadJob job, Done done) = 0;
  // A read that may take long (a tool's search over a whole project): it runs on its own
  // reader, so it never holds up the short reads of requests and live queries.
  virtual void SubmitBackgroundRead(ReadJob job, Done done) = 0;
  virtual void SubmitWrite(WriteJob job, Done done,
                           Durability durability = Durability::kDurable) = 0;
  // Finishes every queued job, then stops the threads. Idempotent.
  virtual void Close() = 0;
};

}  // namespace polaris
