#include "services/file_import.h"

#include <gtest/gtest.h>

#include "domain/limits.h"
#include "services_test_util.h"

namespace polaris::services {
namespace {

class ServicesFileImport : public services_test::ServicesFixture {
 protected:
  void SetUp() override {
    ServicesFixture::SetUp();
    saved_ = CurrentLimits();
    project_ = MakeProject(kAlice, "Imported");
  }
  void TearDown() override {
    SetLimits(saved_);
    ServicesFixture::TearDown();
  }
  Limits saved_;
  Project project_;
};

TEST_F(ServicesFileImport, WritesFilesAndReportsWhatItSkips) {
  ASSERT_TRUE(CreateFolderAtPath(repo(), project_.id, "taken", 1).ok());
  std::vector<ImportedFile> files = {
      {"README.md", "# hi"},         {"src/app/main.ts", "export {}"},     {"../escape", "x"},
      {"taken", "a folder is here"}, {"bin/blob", std::string("a\0b", 3)}, {"bad-utf8", "\xff\xfe"},
  };
  auto r = ImportFilesForUser(repo(), kAlice, project_.id, files, 10);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->written, 2);
  ASSERT_EQ(r->skipped.size(), 4u);
  EXPECT_EQ(r->skipped[0].path, "../escape");
  EXPECT_EQ(r->skipped[1].path, "taken");
  EXPECT_EQ(r->skipped[2].reason, "not a text file");
  EXPECT_EQ(r->skipped[3].reason, "not a text file");
  EXPECT_FALSE(ResolvePath(repo(), project_.id, {"bin"}));  // a skipped file leaves no folder
  auto main = ReadFileAtPath(repo(), project_.id, "src/app/main.ts");
  ASSERT_TRUE(main.ok());
  EXPECT_EQ(main->content, "export {}");
}

TEST_F(ServicesFileImport, SkipsFilesOverThePerFileLimit) {
  Limits l = saved_;
  l.max_import_file_bytes = 8;
  SetLimits(l);
  auto r = ImportFilesForUser(repo(), kAlice, project_.id,
                              {{"small.txt", "12345678"}, {"big.txt", "123456789"}}, 10);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->written, 1);
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].reason, "larger than 8 bytes");
}

TEST_F(ServicesFileImport, AFullQuotaRefusesTheWholeImport) {
  Limits l = saved_;
  l.max_files_per_project = 2;
  SetLimits(l);
  auto r =
      ImportFilesForUser(repo(), kAlice, project_.id, {{"a", "1"}, {"b", "2"}, {"c", "3"}}, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  bool named = false;
  for (const auto& [k, v] : r.error().fields) named |= k == "limit" && v == "files_per_project";
  EXPECT_TRUE(named);
}

TEST_F(ServicesFileImport, OthersProjectsDoNotExist) {
  auto r = ImportFilesForUser(repo(), kBob, project_.id, {{"a", "1"}}, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(ExportTreeForUser(repo(), kBob, project_.id).ok());
}

TEST_F(ServicesFileImport, ExportListsEveryNodeWithItsPathSorted) {
  ASSERT_TRUE(WriteFileAtPath(repo(), project_.id, "src/b.ts", "b", 1).ok());
  ASSERT_TRUE(WriteFileAtPath(repo(), project_.id, "src/a/deep.ts", "deep", 2).ok());
  ASSERT_TRUE(CreateFolderAtPath(repo(), project_.id, "empty", 3).ok());
  auto tree = ExportTreeForUser(repo(), kAlice, project_.id);
  ASSERT_TRUE(tree.ok());
  std::vector<std::string> paths;
  for (const auto& f : *tree) paths.push_back(f.path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"empty", "src", "src/a", "src/a/deep.ts", "src/b.ts"}));
  EXPECT_EQ((*tree)[3].file.content, "deep");
  EXPECT_EQ((*tree)[0].file.type, FileType::kFolder);
}

}  // namespace
}  // namespace polaris::services
