#include "domain/ids.h"

#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <chrono>
#include <initializer_list>
#include <string>
#include <thread>
#include <unordered_set>

namespace polaris {
namespace {

constexpr std::array kTables = {Table::kProject, Table::kConversation, Table::kMessage,
                                Table::kFile, Table::kRun};
constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";

TEST(DomainIds, TagsArePerTable) {
  EXPECT_STREQ(TableTag(Table::kProject), "prj");
  EXPECT_STREQ(TableTag(Table::kConversation), "cnv");
  EXPECT_STREQ(TableTag(Table::kMessage), "msg");
  EXPECT_STREQ(TableTag(Table::kFile), "fil");
  EXPECT_STREQ(TableTag(Table::kRun), "run");
  std::unordered_set<std::string> tags;
  for (Table t : kTables) tags.insert(TableTag(t));
  EXPECT_EQ(tags.size(), kTables.size());
}

TEST(DomainIds, NewIdHasTagUnderscoreAnd26Base32Chars) {
  for (Table t : kTables) {
    std::string tag = TableTag(t);
    for (int i = 0; i < 50; ++i) {
      std::string id = NewId(t);
      ASSERT_EQ(id.size(), tag.size() + 1 + 26) << id;
      EXPECT_EQ(id.substr(0, tag.size()), tag) << id;
      EXPECT_EQ(id[tag.size()], '_') << id;
      for (char c : id.substr(tag.size() + 1)) {
        EXPECT_NE(kAlphabet.find(c), std::string_view::npos) << id;
      }
      EXPECT_TRUE(IsValidId(id, t)) << id;
    }
  }
}

TEST(DomainIds, UniqueAcrossManyDraws) {
  std::unordered_set<std::string> seen;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) seen.insert(NewId(Table::kMessage));
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kDraws));
}

TEST(DomainIds, RandomPartUsesTheWholeAlphabet) {
  // 80 random bits after the 10-character time prefix: every base32 symbol shows up there.
  std::unordered_set<char> used;
  for (int i = 0; i < 2000; ++i) {
    std::string id = NewId(Table::kFile);
    for (char c : id.substr(4 + 10)) used.insert(c);
  }
  EXPECT_EQ(used.size(), kAlphabet.size());
}

TEST(DomainIds, IdsSortByCreationTime) {
  // The time prefix orders ids made in different milliseconds (indexes grow at their end).
  std::string first = NewId(Table::kMessage);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::string second = NewId(Table::kMessage);
  EXPECT_LT(first, second);
  EXPECT_LT(first.substr(4, 10), second.substr(4, 10));
  // The leading character moves every 2^45 ms (about 1,100 years).
  EXPECT_EQ(first[4], second[4]);
}

TEST(DomainIds, IsValidIdRejectsWrongTable) {
  for (Table t : kTables) {
    std::string id = NewId(t);
    for (Table other : kTables) {
      EXPECT_EQ(IsValidId(id, other), t == other) << id << " as " << TableTag(other);
    }
  }
}

TEST(DomainIds, IsValidIdRejectsWrongLength) {
  std::string id = NewId(Table::kProject);
  EXPECT_FALSE(IsValidId("", Table::kProject));
  EXPECT_FALSE(IsValidId("prj_", Table::kProject));
  EXPECT_FALSE(IsValidId("prj", Table::kProject));
  EXPECT_FALSE(IsValidId(id.substr(0, id.size() - 1), Table::kProject));
  EXPECT_FALSE(IsValidId(id + "a", Table::kProject));
  EXPECT_TRUE(IsValidId("prj_" + std::string(26, 'a'), Table::kProject));
  EXPECT_FALSE(IsValidId("prj_" + std::string(25, 'a'), Table::kProject));
  EXPECT_FALSE(IsValidId("prj_" + std::string(27, 'a'), Table::kProject));
}

TEST(DomainIds, IsValidIdRejectsBadChars) {
  const std::string body(25, 'a');
  EXPECT_TRUE(IsValidId("prj_" + body + "7", Table::kProject));
  for (const std::string& bad : std::initializer_list<std::string>{
           "A", "0", "1", "8", "9", "_", "-", "=", " ", "/", "\xc3", std::string(1, '\0')}) {
    EXPECT_FALSE(IsValidId("prj_" + body + bad, Table::kProject)) << "char: " << bad;
    EXPECT_FALSE(IsValidId("prj_" + bad + body, Table::kProject)) << "char: " << bad;
  }
  // The separator must be '_' and the tag lowercase.
  EXPECT_FALSE(IsValidId("prj-" + std::string(26, 'a'), Table::kProject));
  EXPECT_FALSE(IsValidId("PRJ_" + std::string(26, 'a'), Table::kProject));
  EXPECT_FALSE(IsValidId("prja" + std::string(26, 'a'), Table::kProject));
  // Upper-casing a real id makes it invalid.
  std::string id = NewId(Table::kConversation);
  std::string upper = id;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(IsValidId(upper, Table::kConversation));
}

TEST(DomainIds, SecureRandomFillsBuffer) {
  unsigned char a[64] = {}, b[64] = {};
  SecureRandom(a, sizeof a);
  SecureRandom(b, sizeof b);
  EXPECT_NE(std::string(reinterpret_cast<char*>(a), 64),
            std::string(reinterpret_cast<char*>(b), 64));
  SecureRandom(nullptr, 0);  // zero length is a no-op
}

}  // namespace
}  // namespace polaris
