#include "services/conversations.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "domain/ids.h"
#include "services_test_util.h"

namespace polaris::services {
namespace {

class ServicesConversations : public services_test::ServicesFixture {
 protected:
  void SetUp() override {
    ServicesFixture::SetUp();
    project_ = MakeProject(kAlice, "p", 100);
  }
  Project project_;
};

std::string Repeat(const std::string& unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

TEST_F(ServicesConversations, DefaultTitle) {
  EXPECT_STREQ(kDefaultConversationTitle, "New conversation");
  auto c = CreateConversation(repo(), kAlice, project_.id, std::nullopt, 500);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(IsValidId(c->id, Table::kConversation)) << c->id;
  EXPECT_EQ(c->title, "New conversation");
  EXPECT_EQ(c->project_id, project_.id);
  EXPECT_EQ(c->creation_time, 500);
  EXPECT_EQ(c->updated_at, 500);
  auto stored = repo().GetConversation(c->id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->title, "New conversation");
}

TEST_F(ServicesConversations, BlankTitleFallsBackToDefault) {
  for (const std::string& t : {std::string(""), std::string("   "), std::string("\xe3\x80\x80")}) {
    auto c = CreateConversation(repo(), kAlice, project_.id, t, 500);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(repo().GetConversation(c->id)->title, "New conversation");
  }
}

TEST_F(ServicesConversations, GivenTitleIsKept) {
  auto c = CreateConversation(repo(), kAlice, project_.id, "Refactor \xe2\x9c\xa8", 500);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(repo().GetConversation(c->id)->title, "Refactor \xe2\x9c\xa8");
}

TEST_F(ServicesConversations, TitleLimitCountsCodePoints) {
  EXPECT_TRUE(CreateConversation(repo(), kAlice, project_.id, Repeat("\xe6\x97\xa5", 500), 1).ok());
  auto c = CreateConversation(repo(), kAlice, project_.id, Repeat("\xe6\x97\xa5", 501), 1);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(repo().ListConversations(project_.id).size(), 1u);
}

TEST_F(ServicesConversations, ListConversationsNewestFirst) {
  Conversation a = MakeConversation(kAlice, project_.id, 100);
  Conversation b = MakeConversation(kAlice, project_.id, 300);
  Conversation c = MakeConversation(kAlice, project_.id, 200);
  Project other = MakeProject(kAlice, "other", 100);
  MakeConversation(kAlice, other.id, 400);
  auto list = ListConversations(repo(), kAlice, project_.id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, b.id);
  EXPECT_EQ((*list)[1].id, c.id);
  EXPECT_EQ((*list)[2].id, a.id);
}

TEST_F(ServicesConversations, ListMessagesOldestFirst) {
  Conversation c = MakeConversation(kAlice, project_.id, 100);
  Message m2 = MakeMessage(c, Role::kAssistant, 300, "answer");
  Message m1 = MakeMessage(c, Role::kUser, 200, "question");
  auto list = ListMessages(repo(), kAlice, c.id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, m1.id);
  EXPECT_EQ((*list)[1].id, m2.id);
  EXPECT_EQ(ListMessages(repo(), kBob, c.id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(ListMessages(repo(), kAlice, NewId(Table::kConversation)).error().code,
            ErrorCode::kNotFound);
}

}  // namespace
}  // namespace polaris::services
