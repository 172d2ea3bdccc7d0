// The queues both stores serve: batches in order and bounded, put-back writes first, reads
// apart from background reads, and a close that wakes every waiter but drops no queued job.
#include "store/job_queues.h"

#include <gtest/gtest.h>

#include <future>
#include <string>

namespace polaris {
namespace {

// Jobs are told apart by their completion (no repo is needed to queue them).
JobQueues::Write Tagged(std::vector<std::string>& log, std::string tag) {
  JobQueues::Write w;
  w.done = [&log, tag](std::exception_ptr) { log.push_back(tag); };
  return w;
}

std::vector<std::string> RunAll(std::vector<JobQueues::Write>& batch,
                                std::vector<std::string>& log) {
  log.clear();
  for (auto& w : batch) w.done(nullptr);
  return log;
}

TEST(JobQueuesTest, WritesComeInOrderInBoundedBatchesAndPutBackOnesComeFirst) {
  JobQueues q;
  std::vector<std::string> log;
  for (const char* t : {"a", "b", "c"}) q.PushWrite(Tagged(log, t));
  std::vector<JobQueues::Write> batch;
  ASSERT_TRUE(q.TakeWrites(batch, 2));
  EXPECT_EQ(RunAll(batch, log), (std::vector<std::string>{"a", "b"}));
  std::vector<JobQueues::Write> again;
  again.push_back(std::move(batch[0]));
  again.push_back(std::move(batch[1]));
  batch.clear();
  q.PushWritesFront(std::move(again));
  ASSERT_TRUE(q.TakeWrites(batch, 10));
  EXPECT_EQ(RunAll(batch, log), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(JobQueuesTest, ShortAndBackgroundReadsAreSeparateQueues) {
  JobQueues q;
  int which = 0;
  q.PushRead(JobQueues::Reads::kBackground, {nullptr, [&](std::exception_ptr) { which = 2; }});
  q.PushRead(JobQueues::Reads::kShort, {nullptr, [&](std::exception_ptr) { which = 1; }});
  auto r = q.TakeRead(JobQueues::Reads::kShort);
  ASSERT_TRUE(r);
  r->done(nullptr);
  EXPECT_EQ(which, 1) << "a short read never waits behind a background one";
}

TEST(JobQueuesTest, CloseWakesWaitersAndQueuedJobsAreStillServed) {
  JobQueues q;
  auto reader = std::async(std::launch::async,
                           [&] { return q.TakeRead(JobQueues::Reads::kBackground).has_value(); });
  auto writer = std::async(std::launch::async, [&] {
    std::vector<JobQueues::Write> batch;
    return q.TakeWrites(batch, 8);
  });
  std::vector<std::string> log;
  q.PushRead(JobQueues::Reads::kShort, {});
  q.Close();
  EXPECT_FALSE(reader.get()) << "woken by the close, with nothing to serve";
  EXPECT_FALSE(writer.get());
  EXPECT_TRUE(q.TakeRead(JobQueues::Reads::kShort)) << "a job queued before the close is served";
  EXPECT_FALSE(q.TakeRead(JobQueues::Reads::kShort));
}

}  // namespace
}  // namespace polaris
