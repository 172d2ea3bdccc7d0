#include "services/files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "domain/ids.h"
#include "domain/path.h"
#include "services_test_util.h"

namespace polaris::services {
namespace {

class ServicesFiles : public services_test::ServicesFixture {
 protected:
  void SetUp() override {
    ServicesFixture::SetUp();
    project_ = MakeProject(kAlice, "p", 100);
  }

  // The node at path, or nullopt.
  std::optional<FileNode> At(const std::string& path) {
    auto parts = SplitPath(path);
    if (!parts.ok()) return std::nullopt;
    return ResolvePath(repo(), project_.id, parts.value());
  }
  FileNode Write(const std::string& path, const std::string& content, Millis now) {
    auto r = WriteFileAtPath(repo(), project_.id, path, content, now);
    if (!r.ok()) {
      ADD_FAILURE() << "WriteFileAtPath(" << path << "): " << r.error().message;
      return {};
    }
    return r.value();
  }
  FileNode Folder(const std::string& path, Millis now) {
    auto r = CreateFolderAtPath(repo(), project_.id, path, now);
    if (!r.ok()) {
      ADD_FAILURE() << "CreateFolderAtPath(" << path << "): " << r.error().message;
      return {};
    }
    return r.value();
  }
  std::size_t FileCount() { return repo().ListFiles(project_.id).size(); }
  Millis Updated() { return ProjectUpdatedAt(project_.id); }

  Project project_;
};

TEST_F(ServicesFiles, WriteFileCreatesMissingParents) {
  FileNode f = Write("a/b/c.txt", "hello", 200);
  EXPECT_TRUE(IsValidId(f.id, Table::kFile));
  EXPECT_EQ(f.name, "c.txt");
  EXPECT_EQ(f.type, FileType::kFile);
  EXPECT_EQ(f.content, "hello");
  EXPECT_EQ(f.project_id, project_.id);
  EXPECT_EQ(f.creation_time, 200);
  EXPECT_EQ(f.updated_at, 200);

  auto a = At("a"), b = At("a/b"), c = At("a/b/c.txt");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->type, FileType::kFolder);
  EXPECT_FALSE(a->parent_id.has_value());
  EXPECT_FALSE(a->content.has_value());
  EXPECT_EQ(b->type, FileType::kFolder);
  EXPECT_EQ(b->parent_id, a->id);
  EXPECT_EQ(c->id, f.id);
  EXPECT_EQ(c->parent_id, b->id);
  EXPECT_EQ(c->content, "hello");
  EXPECT_EQ(FileCount(), 3u);

  // A sibling reuses the folders.
  FileNode d = Write("a/b/d.txt", "", 201);
  EXPECT_EQ(d.parent_id, b->id);
  EXPECT_EQ(FileCount(), 4u);
  // Root-level file has no parent.
  FileNode r = Write("root.md", "# hi", 202);
  EXPECT_FALSE(r.parent_id.has_value());
  EXPECT_EQ(FileCount(), 5u);
}

TEST_F(ServicesFiles, WriteFileUpsertsExistingFile) {
  FileNode first = Write("src/main.cpp", "v1", 200);
  FileNode second = Write("src/main.cpp", "v2", 300);
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ(second.content, "v2");
  EXPECT_EQ(second.creation_time, 200);
  EXPECT_EQ(second.updated_at, 300);
  auto stored = repo().GetFile(first.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->content, "v2");
  EXPECT_EQ(stored->creation_time, 200);
  EXPECT_EQ(stored->updated_at, 300);
  EXPECT_EQ(FileCount(), 2u);
  // Writing empty content keeps the file, with empty (not absent) content.
  Write("src/main.cpp", "", 400);
  stored = repo().GetFile(first.id);
  ASSERT_TRUE(stored->content.has_value());
  EXPECT_EQ(*stored->content, "");
}

TEST_F(ServicesFiles, WriteFileOverFolderIsConflict) {
  Folder("docs", 200);
  auto r = WriteFileAtPath(repo(), project_.id, "docs", "x", 300);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  Write("a/b/c.txt", "x", 310);
  r = WriteFileAtPath(repo(), project_.id, "a/b", "x", 320);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(At("docs")->type, FileType::kFolder);
  EXPECT_EQ(At("a/b")->type, FileType::kFolder);
  EXPECT_EQ(FileCount(), 4u);
}

TEST_F(ServicesFiles, ParentSegmentThatIsAFileIsConflict) {
  Write("notes.txt", "n", 200);
  Write("a/readme", "r", 210);
  for (std::string path :
       {"notes.txt/child.txt", "notes.txt/deeper/child.txt", "a/readme/x", "a/readme/x/y"}) {
    auto w = WriteFileAtPath(repo(), project_.id, path, "x", 300);
    ASSERT_FALSE(w.ok()) << path;
    EXPECT_EQ(w.error().code, ErrorCode::kConflict) << path;
    auto f = CreateFolderAtPath(repo(), project_.id, path, 300);
    ASSERT_FALSE(f.ok()) << path;
    EXPECT_EQ(f.error().code, ErrorCode::kConflict) << path;
  }
  EXPECT_EQ(FileCount(), 3u);
  EXPECT_EQ(At("notes.txt")->content, "n");
}

TEST_F(ServicesFiles, InvalidPathsAreBadRequest) {
  for (std::string path : {"", "/abs.txt", "a//b", "a/./b", "../x", "a/..", "dir/"}) {
    auto w = WriteFileAtPath(repo(), project_.id, path, "x", 300);
    ASSERT_FALSE(w.ok()) << path;
    EXPECT_EQ(w.error().code, ErrorCode::kBadRequest) << path;
    auto f = CreateFolderAtPath(repo(), project_.id, path, 300);
    ASSERT_FALSE(f.ok()) << path;
    EXPECT_EQ(f.error().code, ErrorCode::kBadRequest) << path;
    auto r = ReadFileAtPath(repo(), project_.id, path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << path;
  }
  auto w = WriteFileAtPath(repo(), project_.id, std::string("a\0b", 3), "x", 300);
  EXPECT_EQ(w.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(FileCount(), 0u);
  EXPECT_EQ(Updated(), 100);
}

TEST_F(ServicesFiles, CreateFolderAtPath) {
  FileNode f = Folder("x/y/z", 200);
  EXPECT_TRUE(IsValidId(f.id, Table::kFile));
  EXPECT_EQ(f.type, FileType::kFolder);
  EXPECT_EQ(f.name, "z");
  EXPECT_FALSE(f.content.has_value());
  EXPECT_EQ(FileCount(), 3u);
  EXPECT_EQ(At("x/y/z")->id, f.id);
  EXPECT_EQ(At("x/y")->type, FileType::kFolder);
  // Creating a folder inside an existing folder reuses it.
  Folder("x/y/w", 210);
  EXPECT_EQ(FileCount(), 4u);
}

TEST_F(ServicesFiles, CreateFolderOnTakenPathIsConflict) {
  Folder("dir", 200);
  Write("file.txt", "x", 210);
  for (std::string path : {"dir", "file.txt"}) {
    auto r = CreateFolderAtPath(repo(), project_.id, path, 300);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.error().code, ErrorCode::kConflict) << path;
  }
  EXPECT_EQ(At("file.txt")->type, FileType::kFile);
  EXPECT_EQ(At("file.txt")->content, "x");
  EXPECT_EQ(FileCount(), 2u);
}

TEST_F(ServicesFiles, ReadFileAtPath) {
  Write("src/lib/util.h", "#pragma once", 200);
  auto r = ReadFileAtPath(repo(), project_.id, "src/lib/util.h");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->content, "#pragma once");
  // Missing, folders, and paths through a file are all 404.
  for (std::string path :
       {"missing.txt", "src/missing.h", "nope/util.h", "src", "src/lib", "src/lib/util.h/x"}) {
    auto miss = ReadFileAtPath(repo(), project_.id, path);
    ASSERT_FALSE(miss.ok()) << path;
    EXPECT_EQ(miss.error().code, ErrorCode::kNotFound) << path;
  }
  // Another project's tree is separate.
  Project other = MakeProject(kAlice, "other", 100);
  EXPECT_EQ(ReadFileAtPath(repo(), other.id, "src/lib/util.h").error().code, ErrorCode::kNotFound);
  // The owner-checked variant.
  auto mine = ReadFileForUser(repo(), kAlice, project_.id, "src/lib/util.h");
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->id, r->id);
}

TEST_F(ServicesFiles, ResolvePath) {
  FileNode f = Write("a/b.txt", "x", 200);
  auto a = At("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->type, FileType::kFolder);
  EXPECT_EQ(At("a/b.txt")->id, f.id);
  EXPECT_FALSE(At("b.txt").has_value());
  EXPECT_FALSE(At("a/b.txt/c").has_value());
  EXPECT_FALSE(ResolvePath(repo(), project_.id, {}).has_value());
}

TEST_F(ServicesFiles, UpdateFileRenamesInPlace) {
  FileNode f = Write("dir/old.txt", "x", 200);
  ASSERT_TRUE(
      UpdateFileForUser(repo(), kAlice, f.id, FileUpdate{"new.txt", std::nullopt}, 300).ok());
  auto stored = repo().GetFile(f.id);
  EXPECT_EQ(stored->name, "new.txt");
  EXPECT_EQ(stored->parent_id, f.parent_id);
  EXPECT_EQ(stored->content, "x");
  EXPECT_EQ(stored->updated_at, 300);
  EXPECT_FALSE(At("dir/old.txt").has_value());
  EXPECT_EQ(At("dir/new.txt")->id, f.id);
  // Renaming a folder keeps its children under it.
  FileNode dir = *At("dir");
  ASSERT_TRUE(UpdateFileForUser(repo(), kAlice, dir.id, FileUpdate{"lib", std::nullopt}, 310).ok());
  EXPECT_EQ(At("lib/new.txt")->id, f.id);
  // Renaming to the current name is fine.
  EXPECT_TRUE(UpdateFileForUser(repo(), kAlice, dir.id, FileUpdate{"lib", std::nullopt}, 320).ok());
}

TEST_F(ServicesFiles, UpdateFileRenameConflict) {
  FileNode a = Write("d/a.txt", "a", 200);
  Write("d/b.txt", "b", 200);
  Folder("d/sub", 200);
  Write("elsewhere.txt", "e", 200);
  for (std::string taken : {"b.txt", "sub"}) {
    auto st = UpdateFileForUser(repo(), kAlice, a.id, FileUpdate{taken, std::nullopt}, 300);
    ASSERT_FALSE(st.ok()) << taken;
    EXPECT_EQ(st.error().code, ErrorCode::kConflict) << taken;
  }
  EXPECT_EQ(repo().GetFile(a.id)->name, "a.txt");
  // A name used in another folder is free here.
  EXPECT_TRUE(
      UpdateFileForUser(repo(), kAlice, a.id, FileUpdate{"elsewhere.txt", std::nullopt}, 310).ok());
  EXPECT_EQ(At("d/elsewhere.txt")->id, a.id);
}

TEST_F(ServicesFiles, UpdateFileRenameValidation) {
  FileNode f = Write("dir/f.txt", "x", 200);
  for (const std::string& bad :
       std::initializer_list<std::string>{"", ".", "..", "a/b", "/", "../f.txt", "dir/g.txt",
                                          "a\\b", "tab\there", std::string(256, 'n'), "\xff"}) {
    auto st = UpdateFileForUser(repo(), kAlice, f.id, FileUpdate{bad, std::nullopt}, 300);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code, ErrorCode::kBadRequest) << bad;
  }
  auto stored = repo().GetFile(f.id);
  EXPECT_EQ(stored->name, "f.txt");
  EXPECT_EQ(stored->parent_id, f.parent_id);
  EXPECT_EQ(stored->updated_at, 200);
  EXPECT_EQ(Updated(), 200);
  EXPECT_EQ(FileCount(), 2u);
}

TEST_F(ServicesFiles, UpdateFileContent) {
  FileNode f = Write("f.txt", "old", 200);
  ASSERT_TRUE(UpdateFileForUser(repo(), kAlice, f.id, FileUpdate{std::nullopt, "new"}, 300).ok());
  auto stored = repo().GetFile(f.id);
  EXPECT_EQ(stored->content, "new");
  EXPECT_EQ(stored->name, "f.txt");
  EXPECT_EQ(stored->updated_at, 300);
  // Name and content together.
  ASSERT_TRUE(UpdateFileForUser(repo(), kAlice, f.id, FileUpdate{"g.txt", "newer"}, 310).ok());
  stored = repo().GetFile(f.id);
  EXPECT_EQ(stored->name, "g.txt");
  EXPECT_EQ(stored->content, "newer");
}

TEST_F(ServicesFiles, UpdateFolderContentIsBadRequest) {
  FileNode d = Folder("dir", 200);
  auto st = UpdateFileForUser(repo(), kAlice, d.id, FileUpdate{std::nullopt, "text"}, 300);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kBadRequest);
  // With a rename in the same request nothing is applied either.
  st = UpdateFileForUser(repo(), kAlice, d.id, FileUpdate{"renamed", "text"}, 300);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kBadRequest);
  auto stored = repo().GetFile(d.id);
  EXPECT_EQ(stored->name, "dir");
  EXPECT_FALSE(stored->content.has_value());
  EXPECT_EQ(stored->updated_at, 200);
  EXPECT_EQ(Updated(), 200);
}

TEST_F(ServicesFiles, DeleteFileIsRecursive) {
  Write("a/b/c.txt", "c", 200);
  Write("a/b/d/e.txt", "e", 200);
  Write("a/f.txt", "f", 200);
  Folder("a/empty", 200);
  FileNode keep = Write("keep.txt", "k", 200);
  FileNode keep_nested = Write("ab/c.txt", "k", 200);
  ASSERT_EQ(FileCount(), 10u);
  FileNode a = *At("a");
  ASSERT_TRUE(DeleteFileForUser(repo(), kAlice, a.id, 300).ok());
  auto left = repo().ListFiles(project_.id);
  std::vector<std::string> ids;
  for (const auto& f : left) ids.push_back(f.id);
  EXPECT_EQ(left.size(), 3u);  // keep.txt, ab, ab/c.txt
  EXPECT_NE(std::find(ids.begin(), ids.end(), keep.id), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), keep_nested.id), ids.end());
  EXPECT_FALSE(At("a").has_value());
  EXPECT_EQ(DeleteFileForUser(repo(), kAlice, a.id, 310).error().code, ErrorCode::kNotFound);
  // The path is free again, for either type.
  Write("a/b/c.txt", "again", 320);
  EXPECT_EQ(FileCount(), 6u);
  // Deleting a single file.
  ASSERT_TRUE(DeleteFileForUser(repo(), kAlice, keep.id, 330).ok());
  EXPECT_FALSE(repo().GetFile(keep.id).has_value());
  EXPECT_EQ(FileCount(), 5u);
}

TEST_F(ServicesFiles, EveryChangeBumpsProjectUpdatedAt) {
  ASSERT_EQ(Updated(), 100);
  FileNode f = Write("a/b.txt", "1", 200);
  EXPECT_EQ(Updated(), 200);
  Write("a/b.txt", "2", 300);  // upsert
  EXPECT_EQ(Updated(), 300);
  FileNode d = Folder("dir", 400);
  EXPECT_EQ(Updated(), 400);
  ASSERT_TRUE(UpdateFileForUser(repo(), kAlice, f.id, FileUpdate{"c.txt", std::nullopt}, 500).ok());
  EXPECT_EQ(Updated(), 500);
  ASSERT_TRUE(UpdateFileForUser(repo(), kAlice, f.id, FileUpdate{std::nullopt, "3"}, 600).ok());
  EXPECT_EQ(Updated(), 600);
  ASSERT_TRUE(DeleteFileForUser(repo(), kAlice, d.id, 700).ok());
  EXPECT_EQ(Updated(), 700);
  ASSERT_TRUE(WriteFileForUser(repo(), kAlice, project_.id, "x.txt", "x", 800).ok());
  EXPECT_EQ(Updated(), 800);
  ASSERT_TRUE(CreateFolderForUser(repo(), kAlice, project_.id, "y", 900).ok());
  EXPECT_EQ(Updated(), 900);
  // A clock running behind never moves updatedAt back.
  Write("x.txt", "late", 850);
  EXPECT_EQ(Updated(), 900);
  EXPECT_EQ(At("x.txt")->updated_at, 850);
  // Failed changes do not bump it.
  EXPECT_FALSE(WriteFileAtPath(repo(), project_.id, "y", "x", 1000).ok());
  EXPECT_FALSE(CreateFolderAtPath(repo(), project_.id, "y", 1000).ok());
  EXPECT_FALSE(
      UpdateFileForUser(repo(), kAlice, f.id, FileUpdate{"../x", std::nullopt}, 1000).ok());
  EXPECT_EQ(Updated(), 900);
  // Other projects are not touched.
  Project other = MakeProject(kAlice, "other", 50);
  Write("z.txt", "z", 1100);
  EXPECT_EQ(ProjectUpdatedAt(other.id), 50);
}

TEST_F(ServicesFiles, FileUpdatedAtFollowsChanges) {
  FileNode f = Write("f.txt", "1", 200);
  ASSERT_TRUE(UpdateFileForUser(repo(), kAlice, f.id, FileUpdate{std::nullopt, "2"}, 300).ok());
  EXPECT_EQ(repo().GetFile(f.id)->updated_at, 300);
  ASSERT_TRUE(UpdateFileForUser(repo(), kAlice, f.id, FileUpdate{"g.txt", std::nullopt}, 250).ok());
  EXPECT_EQ(repo().GetFile(f.id)->updated_at, 300);  // never backwards
  EXPECT_EQ(repo().GetFile(f.id)->creation_time, 200);
}

TEST_F(ServicesFiles, ListFilesForUser) {
  Write("a/b.txt", "x", 200);
  Folder("c", 210);
  auto list = ListFilesForUser(repo(), kAlice, project_.id);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 3u);
  EXPECT_EQ(ListFilesForUser(repo(), kBob, project_.id).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace polaris::services
