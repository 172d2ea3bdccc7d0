#include "services/projects.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "domain/ids.h"
#include "services/conversations.h"
#include "services/files.h"
#include "services_test_util.h"

namespace polaris::services {
namespace {

class ServicesProjects : public services_test::ServicesFixture {};

std::string Repeat(const std::string& unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

const std::vector<std::string>& BlankNames() {
  static const std::vector<std::string> names = {
      "",
      " ",
      "   ",
      "\t\n\r",
      "\xc2\xa0",      // U+00A0 no-break space
      "\xe2\x80\x83",  // U+2003 em space
      "\xe3\x80\x80",  // U+3000 ideographic space
      " \xc2\xa0\xe2\x80\x83\xe3\x80\x80\t",
      "\xe2\x80\xa8\xe2\x80\xa9",  // line/paragraph separators
  };
  return names;
}

TEST_F(ServicesProjects, CreateProjectStoresEveryField) {
  auto p = CreateProject(repo(), kAlice, "My \xf0\x9f\x9a\x80 project", 1234);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_TRUE(IsValidId(p->id, Table::kProject)) << p->id;
  EXPECT_EQ(p->name, "My \xf0\x9f\x9a\x80 project");
  EXPECT_EQ(p->owner_id, kAlice);
  EXPECT_EQ(p->creation_time, 1234);
  EXPECT_EQ(p->updated_at, 1234);
  auto stored = repo().GetProject(p->id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->name, p->name);
  EXPECT_EQ(stored->owner_id, kAlice);
  EXPECT_EQ(stored->creation_time, 1234);
}

TEST_F(ServicesProjects, CreateProjectKeepsNameAsGiven) {
  // Surrounding spaces are not blank-only: the name is kept verbatim.
  auto p = CreateProject(repo(), kAlice, "  padded  ", 1);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(repo().GetProject(p->id)->name, "  padded  ");
  // Zero-width characters are not Unicode white space.
  auto z = CreateProject(repo(), kAlice, "\xe2\x80\x8b", 1);
  EXPECT_TRUE(z.ok());
}

TEST_F(ServicesProjects, CreateProjectRejectsBlankNames) {
  for (const auto& name : BlankNames()) {
    auto p = CreateProject(repo(), kAlice, name, 1);
    ASSERT_FALSE(p.ok()) << "accepted blank name of " << name.size() << " bytes";
    EXPECT_EQ(p.error().code, ErrorCode::kBadRequest);
  }
  EXPECT_TRUE(repo().ListProjects(kAlice, -1).empty());
}

TEST_F(ServicesProjects, CreateProjectNameLimitCountsCodePoints) {
  EXPECT_TRUE(CreateProject(repo(), kAlice, std::string(200, 'a'), 1).ok());
  // 200 code points of 2, 3 and 4 bytes are still 200 characters.
  EXPECT_TRUE(CreateProject(repo(), kAlice, Repeat("\xc3\xa9", 200), 1).ok());
  EXPECT_TRUE(CreateProject(repo(), kAlice, Repeat("\xe6\x97\xa5", 200), 1).ok());
  EXPECT_TRUE(CreateProject(repo(), kAlice, Repeat("\xf0\x9f\x98\x80", 200), 1).ok());
  EXPECT_EQ(repo().ListProjects(kAlice, -1).size(), 4u);

  for (const std::string& name : {std::string(201, 'a'), Repeat("\xc3\xa9", 201),
                                  Repeat("\xf0\x9f\x98\x80", 201), std::string(5000, 'x')}) {
    auto p = CreateProject(repo(), kAlice, name, 1);
    ASSERT_FALSE(p.ok()) << name.size() << " bytes";
    EXPECT_EQ(p.error().code, ErrorCode::kBadRequest);
  }
  EXPECT_EQ(repo().ListProjects(kAlice, -1).size(), 4u);
}

TEST_F(ServicesProjects, ListProjectsNewestFirstOnlyMine) {
  Project a = MakeProject(kAlice, "a", 100);
  Project b = MakeProject(kAlice, "b", 300);
  Project c = MakeProject(kAlice, "c", 200);
  MakeProject(kBob, "bob's", 400);
  auto list = ListProjects(repo(), kAlice);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].id, b.id);
  EXPECT_EQ(list[1].id, c.id);
  EXPECT_EQ(list[2].id, a.id);
  auto limited = ListProjects(repo(), kAlice, 1);
  ASSERT_EQ(limited.size(), 1u);
  EXPECT_EQ(limited[0].id, b.id);
  EXPECT_EQ(ListProjects(repo(), kBob).size(), 1u);
}

TEST_F(ServicesProjects, RenameProject) {
  Project p = MakeProject(kAlice, "old", 100);
  ASSERT_TRUE(RenameProject(repo(), kAlice, p.id, "new", 200).ok());
  auto stored = repo().GetProject(p.id);
  EXPECT_EQ(stored->name, "new");
  EXPECT_EQ(stored->updated_at, 200);
  EXPECT_EQ(stored->creation_time, 100);

  // An older clock does not move updatedAt back.
  ASSERT_TRUE(RenameProject(repo(), kAlice, p.id, "newer", 150).ok());
  stored = repo().GetProject(p.id);
  EXPECT_EQ(stored->name, "newer");
  EXPECT_EQ(stored->updated_at, 200);

  for (const auto& name : BlankNames()) {
    auto st = RenameProject(repo(), kAlice, p.id, name, 300);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kBadRequest);
  }
  EXPECT_EQ(RenameProject(repo(), kAlice, p.id, std::string(201, 'z'), 300).error().code,
            ErrorCode::kBadRequest);
  stored = repo().GetProject(p.id);
  EXPECT_EQ(stored->name, "newer");
  EXPECT_EQ(stored->updated_at, 200);
}

TEST_F(ServicesProjects, DeleteProjectCascades) {
  Project p = MakeProject(kAlice, "doomed", 100);
  Project keep = MakeProject(kAlice, "kept", 100);
  Conversation c = MakeConversation(kAlice, p.id);
  Message m = MakeMessage(c, Role::kUser, 101);
  ASSERT_TRUE(WriteFileAtPath(repo(), p.id, "a/b/c.txt", "x", 102).ok());
  ASSERT_TRUE(WriteFileAtPath(repo(), keep.id, "a/b/c.txt", "x", 102).ok());

  ASSERT_TRUE(DeleteProject(repo(), kAlice, p.id).ok());
  EXPECT_FALSE(repo().GetProject(p.id).has_value());
  EXPECT_FALSE(repo().GetConversation(c.id).has_value());
  EXPECT_FALSE(repo().GetMessage(m.id).has_value());
  EXPECT_TRUE(repo().ListFiles(p.id).empty());
  EXPECT_EQ(repo().ListFiles(keep.id).size(), 3u);
  // Deleting again: it is gone.
  EXPECT_EQ(DeleteProject(repo(), kAlice, p.id).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace polaris::services
