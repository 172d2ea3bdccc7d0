#include "domain/live_tail.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace polaris {
namespace {

TEST(LiveTail, WatchersOfTheConversationHearEachChange) {
  LiveTail tail;
  std::vector<std::string> heard, other;
  auto watch = tail.Subscribe("cnv_a", [&](const std::string& id) {
    heard.push_back(id + "=" + tail.Content(id).value_or("<ended>"));
  });
  auto elsewhere = tail.Subscribe("cnv_b", [&](const std::string& id) { other.push_back(id); });
  tail.Publish("cnv_a", "msg_1", "Hel");
  tail.Publish("cnv_a", "msg_1", "Hel");  // no change, no news
  tail.Publish("cnv_a", "msg_1", "Hello");
  tail.End("cnv_a", "msg_1");
  tail.End("cnv_a", "msg_1");  // already over
  EXPECT_EQ(heard, (std::vector<std::string>{"msg_1=Hel", "msg_1=Hello", "msg_1=<ended>"}));
  EXPECT_TRUE(other.empty());
  EXPECT_FALSE(tail.Content("msg_1"));
}

TEST(LiveTail, ADroppedWatchHearsNothingMore) {
  LiveTail tail;
  int calls = 0;
  auto watch = tail.Subscribe("cnv_a", [&](const std::string&) { ++calls; });
  tail.Publish("cnv_a", "msg_1", "a");
  watch.reset();
  tail.Publish("cnv_a", "msg_1", "ab");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(tail.Content("msg_1"), "ab");
}

}  // namespace
}  // namespace polaris
