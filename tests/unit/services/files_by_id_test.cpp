// The id-addressed file operations used by the Convex file functions.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "domain/ids.h"
#include "domain/path.h"
#include "services/files.h"
#include "services_test_util.h"

namespace polaris::services {
namespace {

class ServicesFilesById : public services_test::ServicesFixture {
 protected:
  void SetUp() override {
    ServicesFixture::SetUp();
    project_ = MakeProject(kAlice, "p", 100);
  }

  FileNode File(const std::optional<std::string>& parent, const std::string& name,
                const std::string& content = "x", Millis now = 200) {
    auto r = CreateNodeForUser(repo(), kAlice, project_.id, parent, name, content, now);
    if (!r.ok()) {
      ADD_FAILURE() << "CreateNodeForUser(" << name << "): " << r.error().message;
      return {};
    }
    return r.value();
  }
  FileNode Folder(const std::optional<std::string>& parent, const std::string& name,
                  Millis now = 200) {
    auto r = CreateNodeForUser(repo(), kAlice, project_.id, parent, name, std::nullopt, now);
    if (!r.ok()) {
      ADD_FAILURE() << "CreateNodeForUser(" << name << "/): " << r.error().message;
      return {};
    }
    return r.value();
  }
  std::vector<std::string> Names(const std::optional<std::string>& parent) {
    auto r = ListFolderForUser(repo(), kAlice, project_.id, parent);
    EXPECT_TRUE(r.ok()) << r.error().message;
    std::vector<std::string> out;
    if (r.ok()) {
      for (const auto& f : r.value()) out.push_back(f.name);
    }
    return out;
  }

  Project project_;
};

TEST_F(ServicesFilesById, CreatesFilesAndFoldersAndBumpsTheProject) {
  FileNode dir = Folder(std::nullopt, "src", 300);
  EXPECT_TRUE(IsValidId(dir.id, Table::kFile));
  EXPECT_EQ(dir.type, FileType::kFolder);
  EXPECT_FALSE(dir.content.has_value());
  EXPECT_FALSE(dir.parent_id.has_value());
  EXPECT_EQ(ProjectUpdatedAt(project_.id), 300);

  FileNode f = File(dir.id, "main.ts", "let a = 1;", 400);
  EXPECT_EQ(f.type, FileType::kFile);
  EXPECT_EQ(f.parent_id, dir.id);
  EXPECT_EQ(f.content, "let a = 1;");
  EXPECT_EQ(f.creation_time, 400);
  EXPECT_EQ(f.updated_at, 400);
  EXPECT_EQ(ProjectUpdatedAt(project_.id), 400);
  // The path operations see what the id operations made.
  auto read = ReadFileAtPath(repo(), project_.id, "src/main.ts");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->id, f.id);
  // Empty content is still a file.
  EXPECT_EQ(File(std::nullopt, "empty", "").content, "");
}

TEST_F(ServicesFilesById, SiblingConflicts) {
  FileNode dir = Folder(std::nullopt, "dir");
  File(std::nullopt, "a.txt");
  auto dup_file = CreateNodeForUser(repo(), kAlice, project_.id, std::nullopt, "a.txt", "y", 1);
  ASSERT_FALSE(dup_file.ok());
  EXPECT_EQ(dup_file.error().code, ErrorCode::kConflict);
  EXPECT_EQ(dup_file.error().message, "File already exists");
  auto dup_dir =
      CreateNodeForUser(repo(), kAlice, project_.id, std::nullopt, "dir", std::nullopt, 1);
  ASSERT_FALSE(dup_dir.ok());
  EXPECT_EQ(dup_dir.error().message, "Folder already exists");
  // A file and a folder may not share a name either (the REST rule).
  auto file_on_dir = CreateNodeForUser(repo(), kAlice, project_.id, std::nullopt, "dir", "y", 1);
  ASSERT_FALSE(file_on_dir.ok());
  EXPECT_EQ(file_on_dir.error().code, ErrorCode::kConflict);
  EXPECT_EQ(file_on_dir.error().message, "A folder with this name already exists in this location");
  auto dir_on_file =
      CreateNodeForUser(repo(), kAlice, project_.id, std::nullopt, "a.txt", std::nullopt, 1);
  ASSERT_FALSE(dir_on_file.ok());
  EXPECT_EQ(dir_on_file.error().message, "A file with this name already exists in this location");
  // The same name elsewhere is fine.
  File(dir.id, "a.txt");
}

TEST_F(ServicesFilesById, ParentMustBeAFolderOfTheProject) {
  FileNode file = File(std::nullopt, "f");
  auto under_file = CreateNodeForUser(repo(), kAlice, project_.id, file.id, "x", "y", 1);
  ASSERT_FALSE(under_file.ok());
  EXPECT_EQ(under_file.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(under_file.error().message, "Parent is not a folder");

  Project other = MakeProject(kAlice, "other");
  auto other_dir = CreateNodeForUser(repo(), kAlice, other.id, std::nullopt, "d", std::nullopt, 1);
  ASSERT_TRUE(other_dir.ok());
  auto cross = CreateNodeForUser(repo(), kAlice, project_.id, other_dir->id, "x", "y", 1);
  ASSERT_FALSE(cross.ok());
  EXPECT_EQ(cross.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(cross.error().message, "Parent folder not found");

  auto missing = CreateNodeForUser(repo(), kAlice, project_.id, NewId(Table::kFile), "x", "y", 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "Parent folder not found");
  auto malformed = CreateNodeForUser(repo(), kAlice, project_.id, std::string("nope"), "x", "y", 1);
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().message, "Invalid parentId");
}

TEST_F(ServicesFilesById, OtherUsersLookMissing) {
  FileNode dir = Folder(std::nullopt, "d");
  Project bobs = MakeProject(kBob, "bob's");
  auto into_alices = CreateNodeForUser(repo(), kBob, project_.id, std::nullopt, "x", "y", 1);
  ASSERT_FALSE(into_alices.ok());
  EXPECT_EQ(into_alices.error().message, "Project not found");
  auto under_alices_folder = CreateNodeForUser(repo(), kBob, bobs.id, dir.id, "x", "y", 1);
  ASSERT_FALSE(under_alices_folder.ok());
  EXPECT_EQ(under_alices_folder.error().message, "Parent folder not found");
  auto rename = RenameFileForUser(repo(), kBob, dir.id, "e", 1);
  ASSERT_FALSE(rename.ok());
  EXPECT_EQ(rename.error().message, "File not found");
  auto path = FilePathForUser(repo(), kBob, dir.id);
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.error().message, "File not found");
  auto list = ListFolderForUser(repo(), kBob, project_.id, std::nullopt);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().message, "Project not found");
}

TEST_F(ServicesFilesById, NamesAreValidated) {
  for (const std::string& bad :
       {std::string(""), std::string("."), std::string(".."), std::string("a/b"),
        std::string("a\\b"), std::string("a\nb"), std::string(256, 'x'), std::string("\xff")}) {
    auto r = CreateNodeForUser(repo(), kAlice, project_.id, std::nullopt, bad, "y", 1);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << bad;
  }
  EXPECT_TRUE(repo().ListFiles(project_.id).empty());
}

TEST_F(ServicesFilesById, TreeStaysWithinPathLimits) {
  // Depth: at most kMaxPathDepth segments, like a path.
  std::optional<std::string> parent;
  for (std::size_t i = 0; i + 1 < kMaxPathDepth; ++i) parent = Folder(parent, "d").id;
  FileNode deepest = File(parent, "f");  // segment number kMaxPathDepth
  auto too_deep = CreateNodeForUser(repo(), kAlice, project_.id, parent, "g", std::nullopt, 1);
  ASSERT_TRUE(too_deep.ok()) << too_deep.error().message;  // a sibling is as deep as f
  auto deeper = CreateNodeForUser(repo(), kAlice, project_.id, too_deep->id, "h", "y", 1);
  ASSERT_FALSE(deeper.ok());
  EXPECT_EQ(deeper.error().message, "Invalid path: too deep");
  auto chain = FilePathForUser(repo(), kAlice, deepest.id);
  ASSERT_TRUE(chain.ok()) << chain.error().message;
  EXPECT_EQ(chain->size(), kMaxPathDepth);
  // A tree this deep can still be deleted in one go.
  auto root = repo().FindChild(project_.id, std::nullopt, "d");
  ASSERT_TRUE(root.has_value());
  ASSERT_TRUE(DeleteFileForUser(repo(), kAlice, root->id, 5).ok());
  EXPECT_TRUE(repo().ListFiles(project_.id).empty());
}

TEST_F(ServicesFilesById, PathBytesStayWithinLimit) {
  std::optional<std::string> parent;
  std::string path;
  for (int i = 0; i < 15; ++i) {
    std::string name(255, static_cast<char>('a' + i));
    parent = Folder(parent, name).id;
    path += name + "/";
  }
  FileNode last = File(parent, std::string(255, 'z'));  // 16 * 255 + 15 = 4095 bytes
  path += std::string(255, 'z');
  ASSERT_EQ(path.size(), 4095u);
  auto read = ReadFileAtPath(repo(), project_.id, path);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->id, last.id);
  auto dir = CreateNodeForUser(repo(), kAlice, project_.id, parent, "yy", std::nullopt, 1);
  ASSERT_TRUE(dir.ok());  // 3839 + 1 + 2 bytes
  auto too_long = CreateNodeForUser(repo(), kAlice, project_.id, parent, std::string(255, 'y'),
                                    std::nullopt, 1);
  ASSERT_TRUE(too_long.ok());  // 4095 bytes, still fine
  auto over = CreateNodeForUser(repo(), kAlice, project_.id, too_long->id, "x", "y", 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message, "Invalid path: too long");
}

TEST_F(ServicesFilesById, RenameInPlace) {
  FileNode dir = Folder(std::nullopt, "dir", 100);
  FileNode f = File(dir.id, "a.txt", "x", 100);
  File(dir.id, "b.txt", "x", 100);
  Folder(dir.id, "sub", 100);

  ASSERT_TRUE(RenameFileForUser(repo(), kAlice, f.id, "c.txt", 700).ok());
  auto renamed = repo().GetFile(f.id);
  EXPECT_EQ(renamed->name, "c.txt");
  EXPECT_EQ(renamed->parent_id, dir.id);
  EXPECT_EQ(renamed->updated_at, 700);
  EXPECT_EQ(renamed->content, "x");
  EXPECT_EQ(ProjectUpdatedAt(project_.id), 700);

  auto clash_file = RenameFileForUser(repo(), kAlice, f.id, "b.txt", 800);
  ASSERT_FALSE(clash_file.ok());
  EXPECT_EQ(clash_file.error().code, ErrorCode::kConflict);
  EXPECT_EQ(clash_file.error().message, "A file with this name already exists in this location");
  auto clash_folder = RenameFileForUser(repo(), kAlice, f.id, "sub", 800);
  ASSERT_FALSE(clash_folder.ok());
  EXPECT_EQ(clash_folder.error().message,
            "A folder with this name already exists in this location");
  EXPECT_EQ(ProjectUpdatedAt(project_.id), 700);

  // The current name changes nothing; a bad name is a 400.
  ASSERT_TRUE(RenameFileForUser(repo(), kAlice, f.id, "c.txt", 900).ok());
  EXPECT_EQ(repo().GetFile(f.id)->updated_at, 700);
  auto bad = RenameFileForUser(repo(), kAlice, f.id, "x/y", 900);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kBadRequest);
  // Case differs: a different name.
  ASSERT_TRUE(RenameFileForUser(repo(), kAlice, f.id, "B.txt", 900).ok());
}

TEST_F(ServicesFilesById, FilePathFromRootDown) {
  FileNode a = Folder(std::nullopt, "a");
  FileNode b = Folder(a.id, "b");
  FileNode c = File(b.id, "c.txt");
  auto chain = FilePathForUser(repo(), kAlice, c.id);
  ASSERT_TRUE(chain.ok()) << chain.error().message;
  ASSERT_EQ(chain->size(), 3u);
  EXPECT_EQ((*chain)[0].id, a.id);
  EXPECT_EQ((*chain)[1].id, b.id);
  EXPECT_EQ((*chain)[2].id, c.id);
  auto top = FilePathForUser(repo(), kAlice, a.id);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 1u);
  EXPECT_EQ((*top)[0].name, "a");
  auto missing = FilePathForUser(repo(), kAlice, NewId(Table::kFile));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(ServicesFilesById, FolderContentsOrder) {
  for (const char* name : {"b.txt", "A.txt", "a.txt", "_x", "B", "\xc3\xa9t\xc3\xa9"}) {
    File(std::nullopt, name);
  }
  Folder(std::nullopt, "zeta");
  FileNode alpha = Folder(std::nullopt, "Alpha");
  Folder(std::nullopt, "beta");
  File(alpha.id, "inner");
  // Folders first; then ASCII case-insensitively, lowercase first on a tie; other bytes
  // (here UTF-8) by value, so after ASCII letters.
  EXPECT_EQ(Names(std::nullopt),
            (std::vector<std::string>{"Alpha", "beta", "zeta", "_x", "a.txt", "A.txt", "B", "b.txt",
                                      "\xc3\xa9t\xc3\xa9"}));
  EXPECT_EQ(Names(alpha.id), std::vector<std::string>{"inner"});
  // A parent that is not a folder of the project has no children.
  EXPECT_TRUE(Names(NewId(Table::kFile)).empty());
  Project other = MakeProject(kAlice, "other");
  auto r = ListFolderForUser(repo(), kAlice, other.id, alpha.id);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  auto malformed = ListFolderForUser(repo(), kAlice, project_.id, std::string("prj_x"));
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, ErrorCode::kBadRequest);
}

}  // namespace
}  // namespace polaris::services
