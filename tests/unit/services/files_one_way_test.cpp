// The agent, the REST API and Convex reach the file tree through different doors; what they
// see and what they are told must be the same: one listing order, one rename.
#include <gtest/gtest.h>

#include "services/files.h"
#include "services_test_util.h"

namespace polaris::services_test {
namespace {

class FilesOneWay : public ServicesFixture {
 protected:
  void SetUp() override {
    ServicesFixture::SetUp();
    project_ = MakeProject(kAlice);
    for (const char* name : {"b.txt", "B.txt", "a.txt", "_x.txt", "Z.txt"}) {
      ASSERT_TRUE(services::WriteFileAtPath(repo(), project_.id, name, "x", 1000).ok());
    }
    for (const char* name : {"src", "Docs"}) {
      ASSERT_TRUE(services::CreateFolderAtPath(repo(), project_.id, name, 1000).ok());
    }
  }
  std::string IdOf(const std::string& path) {
    return services::ResolvePath(repo(), project_.id, {path}).value().id;
  }
  static std::vector<std::string> Names(const std::vector<FileNode>& nodes) {
    std::vector<std::string> out;
    for (const auto& n : nodes) out.push_back(n.name);
    return out;
  }
  Project project_;
};

TEST_F(FilesOneWay, TheAgentAndTheIdeListAFolderInTheSameOrder) {
  auto for_agent = services::ListFolderAtPath(repo(), project_.id, "");
  auto for_ide = services::ListFolderForUser(repo(), kAlice, project_.id, std::nullopt);
  ASSERT_TRUE(for_agent.ok());
  ASSERT_TRUE(for_ide.ok());
  EXPECT_EQ(Names(*for_agent), Names(*for_ide));
  EXPECT_EQ(Names(*for_ide), (std::vector<std::string>{"Docs", "src", "_x.txt", "a.txt", "b.txt",
                                                       "B.txt", "Z.txt"}));
}

TEST_F(FilesOneWay, EveryRenameRefusesAClashWithTheSameSentence) {
  const std::string expected = "A file with this name already exists in this location";
  auto agent = services::RenameAtPath(repo(), project_.id, "a.txt", "b.txt", 2000);
  auto convex = services::RenameFileForUser(repo(), kAlice, IdOf("a.txt"), "b.txt", 2000);
  auto rest = services::UpdateFileForUser(repo(), kAlice, IdOf("a.txt"),
                                          services::FileUpdate{"b.txt", std::nullopt}, 2000);
  ASSERT_FALSE(agent.ok());
  ASSERT_FALSE(convex.ok());
  ASSERT_FALSE(rest.ok());
  for (const Error* e : {&agent.error(), &convex.error(), &rest.error()}) {
    EXPECT_EQ(e->code, ErrorCode::kConflict);
    EXPECT_EQ(e->message, expected);
  }
  auto onto_folder = services::RenameAtPath(repo(), project_.id, "a.txt", "src", 2000);
  ASSERT_FALSE(onto_folder.ok());
  EXPECT_EQ(onto_folder.error().message, "A folder with this name already exists in this location");
}

TEST_F(FilesOneWay, EveryRenameNormalisesAndAcceptsItsOwnName) {
  EXPECT_TRUE(services::RenameAtPath(repo(), project_.id, "a.txt", "a.txt", 2000).ok());
  EXPECT_TRUE(services::RenameFileForUser(repo(), kAlice, IdOf("a.txt"), "a.txt", 2000).ok());
  auto bad = services::RenameFileForUser(repo(), kAlice, IdOf("a.txt"), "x/y", 2000);
  auto bad_agent = services::RenameAtPath(repo(), project_.id, "a.txt", "x/y", 2000);
  ASSERT_FALSE(bad.ok());
  ASSERT_FALSE(bad_agent.ok());
  EXPECT_EQ(bad.error().message, bad_agent.error().message);
}

}  // namespace
}  // namespace polaris::services_test
