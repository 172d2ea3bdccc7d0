#include "services/access.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/conversations.h"
#include "services/files.h"
#include "services/projects.h"
#include "services_test_util.h"

namespace polaris::services {
namespace {

class ServicesAccess : public services_test::ServicesFixture {
 protected:
  void SetUp() override {
    ServicesFixture::SetUp();
    project_ = MakeProject(kAlice, "Alice's");
    conversation_ = MakeConversation(kAlice, project_.id);
    message_ = MakeMessage(conversation_, Role::kUser, 1001);
    auto f = WriteFileAtPath(repo(), project_.id, "src/a.txt", "secret", 1002);
    ASSERT_TRUE(f.ok()) << f.error().message;
    file_ = f.value();
  }

  Project project_;
  Conversation conversation_;
  Message message_;
  FileNode file_;
};

// Malformed ids of every kind, and well-formed ids of the wrong table.
std::vector<std::string> BadIdsFor(Table table) {
  std::vector<std::string> out = {"",
                                  "x",
                                  "prj",
                                  "../etc/passwd",
                                  std::string(TableTag(table)) + "_",
                                  std::string(TableTag(table)) + "_" + std::string(25, 'a'),
                                  std::string(TableTag(table)) + "_" + std::string(27, 'a'),
                                  std::string(TableTag(table)) + "_" + std::string(26, 'A'),
                                  std::string(TableTag(table)) + "_" + std::string(26, '1'),
                                  std::string(TableTag(table)) + "-" + std::string(26, 'a'),
                                  std::string(TableTag(table)) + "_" + std::string(25, 'a') + "\n",
                                  std::string(10000, 'a')};
  for (Table other :
       {Table::kProject, Table::kConversation, Table::kMessage, Table::kFile, Table::kRun}) {
    if (other != table) out.push_back(NewId(other));
  }
  return out;
}

TEST_F(ServicesAccess, CheckIdNamesTheField) {
  EXPECT_TRUE(CheckId(project_.id, Table::kProject, "projectId").ok());
  auto st = CheckId(conversation_.id, Table::kProject, "projectId");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(st.error().message, "Invalid projectId");
}

TEST_F(ServicesAccess, OwnerSeesOwnDocuments) {
  auto p = OwnedProject(repo(), kAlice, project_.id);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->name, "Alice's");
  auto c = OwnedConversation(repo(), kAlice, conversation_.id);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->project_id, project_.id);
  auto m = OwnedMessage(repo(), kAlice, message_.id);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->content, message_.content);
  auto f = OwnedFile(repo(), kAlice, file_.id);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->content, "secret");
}

TEST_F(ServicesAccess, OtherUsersDocumentsLookMissing) {
  // Someone else's document and a document that does not exist answer identically.
  auto expect_same = [](const auto& theirs, const auto& missing, const char* message) {
    ASSERT_FALSE(theirs.ok());
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(theirs.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(theirs.error().message, message);
    EXPECT_EQ(missing.error().message, message);
    EXPECT_EQ(theirs.error().fields, missing.error().fields);
  };
  expect_same(OwnedProject(repo(), kBob, project_.id),
              OwnedProject(repo(), kBob, NewId(Table::kProject)), "Project not found");
  expect_same(OwnedConversation(repo(), kBob, conversation_.id),
              OwnedConversation(repo(), kBob, NewId(Table::kConversation)),
              "Conversation not found");
  expect_same(OwnedMessage(repo(), kBob, message_.id),
              OwnedMessage(repo(), kBob, NewId(Table::kMessage)), "Message not found");
  expect_same(OwnedFile(repo(), kBob, file_.id), OwnedFile(repo(), kBob, NewId(Table::kFile)),
              "File not found");
  // An empty user id owns nothing either.
  EXPECT_EQ(OwnedProject(repo(), "", project_.id).error().code, ErrorCode::kNotFound);
}

TEST_F(ServicesAccess, MalformedAndWrongTableIdsAreBadRequest) {
  for (const auto& id : BadIdsFor(Table::kProject)) {
    auto r = OwnedProject(repo(), kAlice, id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << id;
    EXPECT_EQ(r.error().message, "Invalid projectId");
  }
  for (const auto& id : BadIdsFor(Table::kConversation)) {
    auto r = OwnedConversation(repo(), kAlice, id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << id;
    EXPECT_EQ(r.error().message, "Invalid conversationId");
  }
  for (const auto& id : BadIdsFor(Table::kMessage)) {
    auto r = OwnedMessage(repo(), kAlice, id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << id;
    EXPECT_EQ(r.error().message, "Invalid messageId");
  }
  for (const auto& id : BadIdsFor(Table::kFile)) {
    auto r = OwnedFile(repo(), kAlice, id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << id;
    EXPECT_EQ(r.error().message, "Invalid fileId");
  }
  // Real ids of the wrong table, even ones the caller owns.
  EXPECT_EQ(OwnedProject(repo(), kAlice, conversation_.id).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(OwnedConversation(repo(), kAlice, project_.id).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(OwnedMessage(repo(), kAlice, file_.id).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(OwnedFile(repo(), kAlice, message_.id).error().code, ErrorCode::kBadRequest);
}

TEST_F(ServicesAccess, ServiceEntryPointsHideOtherUsersProjects) {
  const std::string missing = NewId(Table::kProject);
  const Millis updated_before = repo().GetProject(project_.id)->updated_at;
  for (const std::string& id : {project_.id, missing}) {
    EXPECT_EQ(RenameProject(repo(), kBob, id, "Mine now", 2000).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(DeleteProject(repo(), kBob, id).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(CreateConversation(repo(), kBob, id, std::nullopt, 2000).error().code,
              ErrorCode::kNotFound);
    EXPECT_EQ(ListConversations(repo(), kBob, id).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(WriteFileForUser(repo(), kBob, id, "x.txt", "x", 2000).error().code,
              ErrorCode::kNotFound);
    EXPECT_EQ(CreateFolderForUser(repo(), kBob, id, "dir", 2000).error().code,
              ErrorCode::kNotFound);
    EXPECT_EQ(ReadFileForUser(repo(), kBob, id, "src/a.txt").error().code, ErrorCode::kNotFound);
    EXPECT_EQ(ListFilesForUser(repo(), kBob, id).error().code, ErrorCode::kNotFound);
  }
  EXPECT_TRUE(ListProjects(repo(), kBob).empty());
  EXPECT_EQ(ListMessages(repo(), kBob, conversation_.id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(
      UpdateFileForUser(repo(), kBob, file_.id, FileUpdate{"b.txt", "pwned"}, 2000).error().code,
      ErrorCode::kNotFound);
  EXPECT_EQ(DeleteFileForUser(repo(), kBob, file_.id, 2000).error().code, ErrorCode::kNotFound);

  // Nothing of Alice's changed.
  auto p = repo().GetProject(project_.id);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->name, "Alice's");
  EXPECT_EQ(p->updated_at, updated_before);
  EXPECT_EQ(repo().ListConversations(project_.id).size(), 1u);
  EXPECT_EQ(repo().ListFiles(project_.id).size(), 2u);  // "src" and "src/a.txt"
  auto f = repo().GetFile(file_.id);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->name, "a.txt");
  EXPECT_EQ(f->content, "secret");
}

TEST_F(ServicesAccess, ServiceEntryPointsRejectMalformedIds) {
  for (const std::string& id : {std::string("nope"), conversation_.id, file_.id}) {
    EXPECT_EQ(RenameProject(repo(), kAlice, id, "x", 2000).error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(DeleteProject(repo(), kAlice, id).error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(CreateConversation(repo(), kAlice, id, std::nullopt, 2000).error().code,
              ErrorCode::kBadRequest);
    EXPECT_EQ(ListConversations(repo(), kAlice, id).error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(WriteFileForUser(repo(), kAlice, id, "x.txt", "x", 2000).error().code,
              ErrorCode::kBadRequest);
    EXPECT_EQ(ListFilesForUser(repo(), kAlice, id).error().code, ErrorCode::kBadRequest);
  }
  EXPECT_EQ(ListMessages(repo(), kAlice, project_.id).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(UpdateFileForUser(repo(), kAlice, project_.id, FileUpdate{}, 2000).error().code,
            ErrorCode::kBadRequest);
  EXPECT_EQ(DeleteFileForUser(repo(), kAlice, message_.id, 2000).error().code,
            ErrorCode::kBadRequest);
}

}  // namespace
}  // namespace polaris::services
