// The prompt's history keeps the newest messages within its byte budget.
#include "agent/prompts.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace polaris::agent {
namespace {

Message Text(std::string id, Role role, std::string content) {
  Message m;
  m.id = std::move(id);
  m.role = role;
  m.content = std::move(content);
  return m;
}

TEST(HistoryMessages, KeepsTheNewestThatFitOldestFirst) {
  std::vector<Message> conv;
  for (int i = 0; i < 10; ++i) {
    conv.push_back(Text("m" + std::to_string(i), i % 2 ? Role::kAssistant : Role::kUser,
                        std::string(100, static_cast<char>('a' + i))));
  }
  auto all = HistoryMessages(conv, "none");
  EXPECT_EQ(all.size(), 10u);
  auto some = HistoryMessages(conv, "none", 350);
  ASSERT_EQ(some.size(), 3u);
  EXPECT_EQ(some[0].at("content").as_string(), std::string(100, 'h'));
  EXPECT_EQ(some[2].at("content").as_string(), std::string(100, 'j'));
  EXPECT_EQ(some[2].at("role").as_string(), "assistant");
}

TEST(HistoryMessages, TheNewestMessageIsKeptEvenWhenLarge) {
  std::vector<Message> conv{Text("a", Role::kUser, "old"),
                            Text("b", Role::kUser, std::string(1000, 'x')),
                            Text("c", Role::kAssistant, "")};
  auto h = HistoryMessages(conv, "c", 10);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].at("content").as_string().size(), 1000u);
}

}  // namespace
}  // namespace polaris::agent
