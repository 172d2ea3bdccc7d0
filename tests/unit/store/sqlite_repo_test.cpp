#include "store/sqlite/sqlite_repo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/ids.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"
#include "store_test_util.h"

namespace polaris::sqlite {
namespace {

using store_test::CountRows;
using store_test::QueryInt;
using store_test::TempDir;

Project MakeProject(const std::string& owner, Millis t, const std::string& name = "p") {
  return Project{NewId(Table::kProject), t, name, owner, t};
}
Conversation MakeConversation(const std::string& project_id, Millis t,
                              const std::string& title = "c") {
  return Conversation{NewId(Table::kConversation), t, project_id, title, t};
}
Message MakeMessage(const Conversation& c, Role role, Millis t, const std::string& content) {
  Message m;
  m.id = NewId(Table::kMessage);
  m.creation_time = t;
  m.conversation_id = c.id;
  m.project_id = c.project_id;
  m.role = role;
  m.content = content;
  return m;
}
FileNode MakeFile(const std::string& project_id, const std::optional<std::string>& parent,
                  const std::string& name, FileType type, Millis t,
                  std::optional<std::string> content = std::nullopt) {
  if (type == FileType::kFile && !content) content = "";
  return FileNode{NewId(Table::kFile), t, project_id, parent, name, type, content, t};
}

std::vector<std::string> Ids(const auto& docs) {
  std::vector<std::string> out;
  for (const auto& d : docs) out.push_back(d.id);
  return out;
}
std::vector<std::string> Names(const std::vector<FileNode>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.name);
  return out;
}

bool TableExists(Database& db, const std::string& name) {
  return store_test::QueryInt(
             db.handle(),
             "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='" + name + "'") == 1;
}

TEST(StoreSqliteMigrations, CreateSchemaAndAreIdempotentOnReopen) {
  TempDir dir;
  const std::string path = dir.File("polaris.db");
  std::string project_id;
  int version = 0;
  {
    Database db(path, false);
    EXPECT_EQ(SchemaVersion(db), 0);
    Migrate(db);
    version = SchemaVersion(db);
    EXPECT_GE(version, 1);
    EXPECT_EQ(QueryInt(db.handle(), "PRAGMA user_version"), version);
    for (const char* t : {"projects", "conversations", "messages", "tool_calls", "files"}) {
      EXPECT_TRUE(TableExists(db, t)) << t;
    }
    EXPECT_EQ(QueryInt(db.handle(),
                       "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
                       "name='files_by_parent_name'"),
              1);
    const auto objects = QueryInt(db.handle(), "SELECT count(*) FROM sqlite_master");
    // Running again on the same connection is a no-op.
    Migrate(db);
    EXPECT_EQ(SchemaVersion(db), version);
    EXPECT_EQ(QueryInt(db.handle(), "SELECT count(*) FROM sqlite_master"), objects);
    SqliteRepo repo(db);
    Project p = MakeProject("u1", 10);
    project_id = p.id;
    repo.InsertProject(p);
  }
  {
    Database db(path, false);
    EXPECT_EQ(SchemaVersion(db), version);
    Migrate(db);  // must not try to re-create the tables
    EXPECT_EQ(SchemaVersion(db), version);
    SqliteRepo repo(db);
    ASSERT_TRUE(repo.GetProject(project_id).has_value());
    EXPECT_EQ(CountRows(db.handle(), "projects"), 1);
  }
}

TEST(StoreSqliteMigrations, ConnectionEnforcesForeignKeysAndUsesWal) {
  TempDir dir;
  Database db(dir.File("polaris.db"), false);
  Migrate(db);
  EXPECT_EQ(QueryInt(db.handle(), "PRAGMA foreign_keys"), 1);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.handle(), "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
}

class StoreSqliteRepo : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<Database>(dir_.File("polaris.db"), false);
    Migrate(*db_);
    repo_ = std::make_unique<SqliteRepo>(*db_);
    db_->Exec("BEGIN");
  }
  void TearDown() override {
    if (db_ && sqlite3_get_autocommit(db_->handle()) == 0) db_->Exec("COMMIT");
    repo_.reset();
    db_.reset();
  }
  std::int64_t Count(const std::string& table) { return CountRows(db_->handle(), table); }
  Project AddProject(const std::string& owner = "u1", Millis t = 100) {
    Project p = MakeProject(owner, t);
    repo_->InsertProject(p);
    return p;
  }
  Conversation AddConversation(const Project& p, Millis t = 100) {
    Conversation c = MakeConversation(p.id, t);
    repo_->InsertConversation(c);
    return c;
  }
  FileNode AddFile(const Project& p, const std::optional<std::string>& parent,
                   const std::string& name, FileType type = FileType::kFile, Millis t = 100) {
    FileNode f = MakeFile(
        p.id, parent, name, type, t,
        type == FileType::kFile ? std::optional<std::string>("body of " + name) : std::nullopt);
    repo_->InsertFile(f);
    return f;
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqliteRepo> repo_;
};

// ---- projects ----

TEST_F(StoreSqliteRepo, ProjectCrud) {
  Project p{NewId(Table::kProject), 1000, "My project \xe2\x9c\x93", "user_a", 1001};
  repo_->InsertProject(p);
  auto got = repo_->GetProject(p.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, p.id);
  EXPECT_EQ(got->creation_time, 1000);
  EXPECT_EQ(got->name, p.name);
  EXPECT_EQ(got->owner_id, "user_a");
  EXPECT_EQ(got->updated_at, 1001);

  repo_->UpdateProject(p.id, "Renamed", 2000);
  got = repo_->GetProject(p.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->name, "Renamed");
  EXPECT_EQ(got->updated_at, 2000);
  EXPECT_EQ(got->creation_time, 1000);

  repo_->DeleteProject(p.id);
  EXPECT_FALSE(repo_->GetProject(p.id).has_value());
  EXPECT_FALSE(repo_->GetProject(NewId(Table::kProject)).has_value());
  EXPECT_EQ(Count("projects"), 0);
}

TEST_F(StoreSqliteRepo, TouchProjectNeverMovesBackwards) {
  Project p = AddProject("u1", 100);
  repo_->TouchProject(p.id, 500);
  EXPECT_EQ(repo_->GetProject(p.id)->updated_at, 500);
  repo_->TouchProject(p.id, 300);
  EXPECT_EQ(repo_->GetProject(p.id)->updated_at, 500);
  repo_->TouchProject(p.id, 501);
  EXPECT_EQ(repo_->GetProject(p.id)->updated_at, 501);
}

TEST_F(StoreSqliteRepo, ProjectIdIsUnique) {
  Project p = AddProject();
  EXPECT_THROW(repo_->InsertProject(p), SqliteError);
}

TEST_F(StoreSqliteRepo, ListProjectsNewestFirstPerOwnerWithLimit) {
  Project a = MakeProject("u1", 100), b = MakeProject("u1", 300), c = MakeProject("u1", 200);
  Project other = MakeProject("u2", 400);
  for (const auto& p : {a, b, c, other}) repo_->InsertProject(p);
  EXPECT_EQ(Ids(repo_->ListProjects("u1", -1)), (std::vector<std::string>{b.id, c.id, a.id}));
  EXPECT_EQ(Ids(repo_->ListProjects("u1", 2)), (std::vector<std::string>{b.id, c.id}));
  EXPECT_TRUE(repo_->ListProjects("u1", 0).empty());
  EXPECT_EQ(Ids(repo_->ListProjects("u2", -1)), (std::vector<std::string>{other.id}));
  EXPECT_TRUE(repo_->ListProjects("nobody", -1).empty());
}

TEST_F(StoreSqliteRepo, ListProjectsTiesFallBackToInsertionOrder) {
  // Same creation_time: the one inserted last is the newest. Random ids must not decide.
  std::vector<std::string> inserted;
  for (int i = 0; i < 20; ++i) inserted.push_back(AddProject("u1", 100).id);
  Project later = AddProject("u1", 101);
  std::vector<std::string> expected{later.id};
  expected.insert(expected.end(), inserted.rbegin(), inserted.rend());
  EXPECT_EQ(Ids(repo_->ListProjects("u1", -1)), expected);
}

// ---- conversations ----

TEST_F(StoreSqliteRepo, ConversationCrud) {
  Project p = AddProject();
  Conversation c{NewId(Table::kConversation), 100, p.id, "Hello", 150};
  repo_->InsertConversation(c);
  auto got = repo_->GetConversation(c.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, c.id);
  EXPECT_EQ(got->creation_time, 100);
  EXPECT_EQ(got->project_id, p.id);
  EXPECT_EQ(got->title, "Hello");
  EXPECT_EQ(got->updated_at, 150);

  repo_->UpdateConversationTitle(c.id, "Renamed", 200);
  got = repo_->GetConversation(c.id);
  EXPECT_EQ(got->title, "Renamed");
  EXPECT_EQ(got->updated_at, 200);
  // The title changes even with an older timestamp; updated_at does not go back.
  repo_->UpdateConversationTitle(c.id, "Again", 120);
  got = repo_->GetConversation(c.id);
  EXPECT_EQ(got->title, "Again");
  EXPECT_EQ(got->updated_at, 200);

  repo_->TouchConversation(c.id, 300);
  EXPECT_EQ(repo_->GetConversation(c.id)->updated_at, 300);
  repo_->TouchConversation(c.id, 250);
  EXPECT_EQ(repo_->GetConversation(c.id)->updated_at, 300);
  EXPECT_FALSE(repo_->GetConversation(NewId(Table::kConversation)).has_value());
}

TEST_F(StoreSqliteRepo, ConversationNeedsExistingProject) {
  Conversation c = MakeConversation(NewId(Table::kProject), 100);
  EXPECT_THROW(repo_->InsertConversation(c), SqliteError);
}

TEST_F(StoreSqliteRepo, ListConversationsNewestFirstTiesByInsertionOrder) {
  Project p = AddProject(), q = AddProject();
  Conversation c1 = AddConversation(p, 100);
  Conversation c2 = AddConversation(p, 300);
  Conversation t1 = AddConversation(p, 200);
  Conversation t2 = AddConversation(p, 200);
  Conversation t3 = AddConversation(p, 200);
  Conversation other = AddConversation(q, 500);
  EXPECT_EQ(Ids(repo_->ListConversations(p.id)),
            (std::vector<std::string>{c2.id, t3.id, t2.id, t1.id, c1.id}));
  EXPECT_EQ(Ids(repo_->ListConversations(q.id)), (std::vector<std::string>{other.id}));
  EXPECT_TRUE(repo_->ListConversations(NewId(Table::kProject)).empty());
}

// ---- messages ----

TEST_F(StoreSqliteRepo, MessageRoundTripsEveryField) {
  Project p = AddProject();
  Conversation c = AddConversation(p);
  Message user = MakeMessage(c, Role::kUser, 100, "hi \xf0\x9f\x98\x80");
  repo_->InsertMessage(user);

  Message a = MakeMessage(c, Role::kAssistant, 101, "");
  a.status = MessageStatus::kProcessing;
  a.trigger_run_id = NewId(Table::kRun);
  a.model = "gpt-test";
  a.usage = Usage{12, 34};
  a.error = "boom";
  a.tool_calls = {ToolCall{"call_1", "write_file", R"({"path":"a"})", R"({"success":true})"},
                  ToolCall{"call_2", "read_file", R"({"path":"b"})", std::nullopt}};
  repo_->InsertMessage(a);

  auto gu = repo_->GetMessage(user.id);
  ASSERT_TRUE(gu.has_value());
  EXPECT_EQ(gu->role, Role::kUser);
  EXPECT_EQ(gu->content, user.content);
  EXPECT_EQ(gu->conversation_id, c.id);
  EXPECT_EQ(gu->project_id, p.id);
  EXPECT_EQ(gu->creation_time, 100);
  EXPECT_FALSE(gu->status.has_value());
  EXPECT_FALSE(gu->trigger_run_id.has_value());
  EXPECT_FALSE(gu->error.has_value());
  EXPECT_FALSE(gu->model.has_value());
  EXPECT_FALSE(gu->usage.has_value());
  EXPECT_TRUE(gu->tool_calls.empty());

  auto ga = repo_->GetMessage(a.id);
  ASSERT_TRUE(ga.has_value());
  EXPECT_EQ(ga->role, Role::kAssistant);
  EXPECT_EQ(ga->content, "");
  EXPECT_EQ(ga->status, MessageStatus::kProcessing);
  EXPECT_EQ(ga->trigger_run_id, a.trigger_run_id);
  EXPECT_EQ(ga->model, "gpt-test");
  EXPECT_EQ(ga->error, "boom");
  ASSERT_TRUE(ga->usage.has_value());
  EXPECT_EQ(ga->usage->prompt_tokens, 12);
  EXPECT_EQ(ga->usage->completion_tokens, 34);
  ASSERT_EQ(ga->tool_calls.size(), 2u);
  EXPECT_EQ(ga->tool_calls[0].id, "call_1");
  EXPECT_EQ(ga->tool_calls[0].name, "write_file");
  EXPECT_EQ(ga->tool_calls[0].args_json, R"({"path":"a"})");
  EXPECT_EQ(ga->tool_calls[0].result_json, R"({"success":true})");
  EXPECT_EQ(ga->tool_calls[1].id, "call_2");
  EXPECT_FALSE(ga->tool_calls[1].result_json.has_value());
  EXPECT_FALSE(repo_->GetMessage(NewId(Table::kMessage)).has_value());
}

TEST_F(StoreSqliteRepo, ToolCallsKeepOrderAcrossUpdates) {
  Project p = AddProject();
  Conversation c = AddConversation(p);
  Message a = MakeMessage(c, Role::kAssistant, 100, "");
  a.status = MessageStatus::kProcessing;
  repo_->InsertMessage(a);
  EXPECT_TRUE(repo_->GetMessage(a.id)->tool_calls.empty());

  // Ids chosen so that neither alphabetical nor insertion-by-id order equals position order.
  std::vector<std::string> call_ids = {"z", "b", "m", "a", "y", "c", "x", "d", "w", "e", "v", "f"};
  for (std::size_t i = 0; i < call_ids.size(); ++i) {
    a.tool_calls.push_back(ToolCall{call_ids[i], "tool" + std::to_string(i),
                                    "{\"i\":" + std::to_string(i) + "}", std::nullopt});
    repo_->UpdateMessage(a);
  }
  a.tool_calls[3].result_json = R"({"ok":1})";
  a.content = "done";
  a.status = MessageStatus::kCompleted;
  a.usage = Usage{1, 2};
  repo_->UpdateMessage(a);

  auto got = repo_->GetMessage(a.id);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->tool_calls.size(), call_ids.size());
  for (std::size_t i = 0; i < call_ids.size(); ++i) {
    EXPECT_EQ(got->tool_calls[i].id, call_ids[i]);
    EXPECT_EQ(got->tool_calls[i].name, "tool" + std::to_string(i));
    EXPECT_EQ(got->tool_calls[i].args_json, "{\"i\":" + std::to_string(i) + "}");
    EXPECT_EQ(got->tool_calls[i].result_json.has_value(), i == 3);
  }
  EXPECT_EQ(got->content, "done");
  EXPECT_EQ(got->status, MessageStatus::kCompleted);
  ASSERT_TRUE(got->usage.has_value());
  EXPECT_EQ(got->usage->completion_tokens, 2);

  // ListMessages returns the same calls in the same order.
  auto listed = repo_->ListMessages(c.id);
  ASSERT_EQ(listed.size(), 1u);
  ASSERT_EQ(listed[0].tool_calls.size(), call_ids.size());
  for (std::size_t i = 0; i < call_ids.size(); ++i) {
    EXPECT_EQ(listed[0].tool_calls[i].id, call_ids[i]);
  }

  // Shrinking the list removes the extra rows.
  a.tool_calls.resize(2);
  a.usage.reset();
  a.error = "late failure";
  a.status = MessageStatus::kFailed;
  repo_->UpdateMessage(a);
  got = repo_->GetMessage(a.id);
  ASSERT_EQ(got->tool_calls.size(), 2u);
  EXPECT_EQ(got->tool_calls[0].id, "z");
  EXPECT_EQ(got->tool_calls[1].id, "b");
  EXPECT_FALSE(got->usage.has_value());
  EXPECT_EQ(got->error, "late failure");
  EXPECT_EQ(got->status, MessageStatus::kFailed);
  EXPECT_EQ(Count("tool_calls"), 2);
}

TEST_F(StoreSqliteRepo, ListMessagesOldestFirstTiesByInsertionOrder) {
  Project p = AddProject();
  Conversation c = AddConversation(p), other = AddConversation(p);
  Message m3 = MakeMessage(c, Role::kUser, 300, "3");
  Message m1 = MakeMessage(c, Role::kUser, 100, "1");
  Message t1 = MakeMessage(c, Role::kUser, 200, "t1");
  Message t2 = MakeMessage(c, Role::kAssistant, 200, "t2");
  Message t3 = MakeMessage(c, Role::kUser, 200, "t3");
  Message o = MakeMessage(other, Role::kUser, 50, "o");
  for (const auto& m : {m3, m1, t1, t2, t3, o}) repo_->InsertMessage(m);
  EXPECT_EQ(Ids(repo_->ListMessages(c.id)),
            (std::vector<std::string>{m1.id, t1.id, t2.id, t3.id, m3.id}));
  EXPECT_EQ(Ids(repo_->ListMessages(other.id)), (std::vector<std::string>{o.id}));
  EXPECT_TRUE(repo_->ListMessages(NewId(Table::kConversation)).empty());
}

TEST_F(StoreSqliteRepo, FindProcessingMessagePerProject) {
  Project p = AddProject(), q = AddProject();
  Conversation c = AddConversation(p), d = AddConversation(q);
  EXPECT_FALSE(repo_->FindProcessingMessage(p.id).has_value());

  repo_->InsertMessage(MakeMessage(c, Role::kUser, 100, "question"));  // no status
  Message done = MakeMessage(c, Role::kAssistant, 101, "answer");
  done.status = MessageStatus::kCompleted;
  repo_->InsertMessage(done);
  EXPECT_FALSE(repo_->FindProcessingMessage(p.id).has_value());

  Message running = MakeMessage(c, Role::kAssistant, 102, "");
  running.status = MessageStatus::kProcessing;
  repo_->InsertMessage(running);
  EXPECT_EQ(repo_->FindProcessingMessage(p.id), running.id);
  EXPECT_FALSE(repo_->FindProcessingMessage(q.id).has_value());

  // Another conversation of the same project sees it too (it is per project).
  Conversation c2 = AddConversation(p);
  (void)c2;
  EXPECT_EQ(repo_->FindProcessingMessage(p.id), running.id);

  running.status = MessageStatus::kCancelled;
  repo_->UpdateMessage(running);
  EXPECT_FALSE(repo_->FindProcessingMessage(p.id).has_value());

  Message in_q = MakeMessage(d, Role::kAssistant, 103, "");
  in_q.status = MessageStatus::kProcessing;
  repo_->InsertMessage(in_q);
  EXPECT_EQ(repo_->FindProcessingMessage(q.id), in_q.id);
  EXPECT_FALSE(repo_->FindProcessingMessage(p.id).has_value());
}

// ---- files ----

TEST_F(StoreSqliteRepo, FileCrud) {
  Project p = AddProject();
  FileNode folder = MakeFile(p.id, std::nullopt, "src", FileType::kFolder, 100);
  repo_->InsertFile(folder);
  FileNode file = MakeFile(p.id, folder.id, "main.cpp", FileType::kFile, 101, "int main() {}");
  repo_->InsertFile(file);
  FileNode empty = MakeFile(p.id, std::nullopt, "empty.txt", FileType::kFile, 102, "");
  repo_->InsertFile(empty);

  auto gf = repo_->GetFile(folder.id);
  ASSERT_TRUE(gf.has_value());
  EXPECT_EQ(gf->type, FileType::kFolder);
  EXPECT_FALSE(gf->parent_id.has_value());
  EXPECT_FALSE(gf->content.has_value());
  EXPECT_EQ(gf->name, "src");
  EXPECT_EQ(gf->project_id, p.id);
  EXPECT_EQ(gf->creation_time, 100);
  EXPECT_EQ(gf->updated_at, 100);

  auto gm = repo_->GetFile(file.id);
  ASSERT_TRUE(gm.has_value());
  EXPECT_EQ(gm->type, FileType::kFile);
  EXPECT_EQ(gm->parent_id, folder.id);
  EXPECT_EQ(gm->content, "int main() {}");

  auto ge = repo_->GetFile(empty.id);
  ASSERT_TRUE(ge.has_value());
  ASSERT_TRUE(ge->content.has_value());  // empty content is not "no content"
  EXPECT_EQ(*ge->content, "");

  // Update: rename, move to the root, new content.
  FileNode moved = *gm;
  moved.name = "app.cpp";
  moved.parent_id = std::nullopt;
  moved.content = std::string("line1\nline2\0tail", 16);
  moved.updated_at = 500;
  repo_->UpdateFile(moved);
  auto gu = repo_->GetFile(file.id);
  ASSERT_TRUE(gu.has_value());
  EXPECT_EQ(gu->name, "app.cpp");
  EXPECT_FALSE(gu->parent_id.has_value());
  EXPECT_EQ(gu->content, moved.content);  // embedded NUL survives
  EXPECT_EQ(gu->updated_at, 500);
  EXPECT_EQ(gu->creation_time, 101);

  EXPECT_EQ(Ids(repo_->ListFiles(p.id)), (std::vector<std::string>{folder.id, file.id, empty.id}));
  repo_->DeleteFile(empty.id);
  EXPECT_FALSE(repo_->GetFile(empty.id).has_value());
  EXPECT_EQ(Count("files"), 2);
  EXPECT_FALSE(repo_->GetFile(NewId(Table::kFile)).has_value());
}

TEST_F(StoreSqliteRepo, ListFilesIsPerProjectInCreationOrder) {
  Project p = AddProject(), q = AddProject();
  FileNode late = AddFile(p, std::nullopt, "late", FileType::kFile, 300);
  FileNode early = AddFile(p, std::nullopt, "early", FileType::kFile, 100);
  FileNode tie1 = AddFile(p, std::nullopt, "tie1", FileType::kFile, 200);
  FileNode tie2 = AddFile(p, std::nullopt, "tie0", FileType::kFile, 200);
  AddFile(q, std::nullopt, "other", FileType::kFile, 50);
  EXPECT_EQ(Ids(repo_->ListFiles(p.id)),
            (std::vector<std::string>{early.id, tie1.id, tie2.id, late.id}));
  EXPECT_EQ(repo_->ListFiles(q.id).size(), 1u);
  EXPECT_TRUE(repo_->ListFiles(NewId(Table::kProject)).empty());
}

TEST_F(StoreSqliteRepo, FindChildAndListChildrenAtRootAndInFolders) {
  Project p = AddProject(), q = AddProject();
  FileNode src = AddFile(p, std::nullopt, "src", FileType::kFolder);
  FileNode readme = AddFile(p, std::nullopt, "README.md");
  FileNode lib = AddFile(p, src.id, "lib", FileType::kFolder);
  FileNode main_cpp = AddFile(p, src.id, "main.cpp");
  FileNode nested_readme = AddFile(p, src.id, "README.md");  // same name, other folder
  FileNode deep = AddFile(p, lib.id, "util.h");
  FileNode q_readme = AddFile(q, std::nullopt, "README.md");  // same name, other project

  // Root.
  EXPECT_EQ(Names(repo_->ListChildren(p.id, std::nullopt)),
            (std::vector<std::string>{"README.md", "src"}));
  auto f = repo_->FindChild(p.id, std::nullopt, "README.md");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, readme.id);
  EXPECT_EQ(f->content, "body of README.md");
  f = repo_->FindChild(p.id, std::nullopt, "src");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, src.id);
  EXPECT_EQ(f->type, FileType::kFolder);
  EXPECT_FALSE(repo_->FindChild(p.id, std::nullopt, "main.cpp").has_value());
  EXPECT_FALSE(repo_->FindChild(p.id, std::nullopt, "readme.md").has_value());  // case matters

  // In a folder.
  EXPECT_EQ(Names(repo_->ListChildren(p.id, src.id)),
            (std::vector<std::string>{"README.md", "lib", "main.cpp"}));
  f = repo_->FindChild(p.id, src.id, "README.md");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, nested_readme.id);
  f = repo_->FindChild(p.id, src.id, "main.cpp");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, main_cpp.id);
  EXPECT_FALSE(repo_->FindChild(p.id, src.id, "util.h").has_value());
  EXPECT_FALSE(repo_->FindChild(p.id, src.id, "src").has_value());
  EXPECT_EQ(Ids(repo_->ListChildren(p.id, lib.id)), (std::vector<std::string>{deep.id}));
  EXPECT_TRUE(repo_->ListChildren(p.id, main_cpp.id).empty());
  EXPECT_TRUE(repo_->ListChildren(p.id, NewId(Table::kFile)).empty());

  // Other project.
  EXPECT_EQ(Ids(repo_->ListChildren(q.id, std::nullopt)), (std::vector<std::string>{q_readme.id}));
  f = repo_->FindChild(q.id, std::nullopt, "README.md");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, q_readme.id);
  EXPECT_FALSE(repo_->FindChild(q.id, std::nullopt, "src").has_value());
  // A folder of project p is not a parent within project q.
  EXPECT_TRUE(repo_->ListChildren(q.id, src.id).empty());
  EXPECT_FALSE(repo_->FindChild(q.id, src.id, "main.cpp").has_value());
}

TEST_F(StoreSqliteRepo, UniqueIndexRejectsDuplicateSiblings) {
  Project p = AddProject(), q = AddProject();
  FileNode dir = AddFile(p, std::nullopt, "dir", FileType::kFolder);
  AddFile(p, std::nullopt, "a.txt");
  AddFile(p, dir.id, "b.txt");

  // Same name at the root (parent NULL): NULLs must not slip past the index.
  EXPECT_THROW(repo_->InsertFile(MakeFile(p.id, std::nullopt, "a.txt", FileType::kFile, 1)),
               SqliteError);
  // Same name in a folder.
  EXPECT_THROW(repo_->InsertFile(MakeFile(p.id, dir.id, "b.txt", FileType::kFile, 1)), SqliteError);
  // A folder and a file may not share a path either.
  EXPECT_THROW(repo_->InsertFile(MakeFile(p.id, std::nullopt, "a.txt", FileType::kFolder, 1)),
               SqliteError);
  EXPECT_THROW(repo_->InsertFile(MakeFile(p.id, std::nullopt, "dir", FileType::kFile, 1)),
               SqliteError);
  // Renaming onto a sibling's name is rejected too.
  FileNode c = AddFile(p, std::nullopt, "c.txt");
  c.name = "a.txt";
  EXPECT_THROW(repo_->UpdateFile(c), SqliteError);

  // The failed statements left the transaction usable and changed nothing.
  EXPECT_EQ(Count("files"), 4);
  EXPECT_EQ(repo_->GetFile(c.id)->name, "c.txt");

  // Same name is fine in another folder, in another project, or differing only in case.
  EXPECT_NO_THROW(repo_->InsertFile(MakeFile(p.id, dir.id, "a.txt", FileType::kFile, 1)));
  EXPECT_NO_THROW(repo_->InsertFile(MakeFile(q.id, std::nullopt, "a.txt", FileType::kFile, 1)));
  EXPECT_NO_THROW(repo_->InsertFile(MakeFile(p.id, std::nullopt, "A.txt", FileType::kFile, 1)));
  EXPECT_EQ(Count("files"), 7);
}

TEST_F(StoreSqliteRepo, FileNeedsExistingProjectAndParent) {
  Project p = AddProject();
  EXPECT_THROW(
      repo_->InsertFile(MakeFile(NewId(Table::kProject), std::nullopt, "x", FileType::kFile, 1)),
      SqliteError);
  EXPECT_THROW(repo_->InsertFile(MakeFile(p.id, NewId(Table::kFile), "x", FileType::kFile, 1)),
               SqliteError);
  EXPECT_EQ(Count("files"), 0);
}

TEST_F(StoreSqliteRepo, DeleteFolderRemovesAllDescendants) {
  Project p = AddProject();
  FileNode keep_root = AddFile(p, std::nullopt, "keep.txt");
  FileNode a = AddFile(p, std::nullopt, "a", FileType::kFolder);
  FileNode keep_dir = AddFile(p, std::nullopt, "keep", FileType::kFolder);
  FileNode keep_child = AddFile(p, keep_dir.id, "x.txt");
  FileNode a1 = AddFile(p, a.id, "a1.txt");
  FileNode b = AddFile(p, a.id, "b", FileType::kFolder);
  FileNode b1 = AddFile(p, b.id, "b1.txt");
  FileNode c = AddFile(p, b.id, "c", FileType::kFolder);
  FileNode c1 = AddFile(p, c.id, "c1.txt");
  FileNode empty = AddFile(p, c.id, "empty", FileType::kFolder);

  repo_->DeleteFile(a.id);
  for (const auto& gone : {a, a1, b, b1, c, c1, empty}) {
    EXPECT_FALSE(repo_->GetFile(gone.id).has_value()) << gone.name;
  }
  for (const auto& kept : {keep_root, keep_dir, keep_child}) {
    EXPECT_TRUE(repo_->GetFile(kept.id).has_value()) << kept.name;
  }
  EXPECT_EQ(Count("files"), 3);

  // Deleting a plain file leaves its siblings alone.
  repo_->DeleteFile(keep_child.id);
  EXPECT_TRUE(repo_->GetFile(keep_dir.id).has_value());
  EXPECT_EQ(Count("files"), 2);
}

TEST_F(StoreSqliteRepo, DeleteFolderAtMaximumPathDepth) {
  // SplitPath allows 256 levels; deleting the top of such a chain must remove all of it.
  Project p = AddProject();
  std::optional<std::string> parent;
  std::vector<std::string> ids;
  for (int depth = 0; depth < 255; ++depth) {
    FileNode d = AddFile(p, parent, "d" + std::to_string(depth), FileType::kFolder);
    ids.push_back(d.id);
    parent = d.id;
  }
  AddFile(p, parent, "leaf.txt");
  ASSERT_EQ(Count("files"), 256);
  repo_->DeleteFile(ids.front());
  EXPECT_EQ(Count("files"), 0);
}

TEST_F(StoreSqliteRepo, DeleteProjectWithMaximumDepthTree) {
  Project p = AddProject(), keep = AddProject();
  std::optional<std::string> parent;
  for (int depth = 0; depth < 255; ++depth) {
    parent = AddFile(p, parent, "d" + std::to_string(depth), FileType::kFolder).id;
  }
  AddFile(p, parent, "leaf.txt");
  AddFile(keep, std::nullopt, "kept.txt");
  repo_->DeleteProject(p.id);
  EXPECT_EQ(Count("files"), 1);
  EXPECT_TRUE(repo_->GetProject(keep.id).has_value());
}

TEST_F(StoreSqliteRepo, DeleteProjectCascadesToEverything) {
  Project p = AddProject("u1"), keep = AddProject("u1");
  Conversation c1 = AddConversation(p), c2 = AddConversation(p);
  Conversation keep_c = AddConversation(keep);
  for (const Conversation& c : {c1, c2, keep_c}) {
    repo_->InsertMessage(MakeMessage(c, Role::kUser, 100, "q"));
    Message a = MakeMessage(c, Role::kAssistant, 101, "a");
    a.status = MessageStatus::kProcessing;
    a.tool_calls = {ToolCall{"t1", "read_file", "{}", std::nullopt},
                    ToolCall{"t2", "write_file", "{}", "{}"}};
    repo_->InsertMessage(a);
  }
  FileNode dir = AddFile(p, std::nullopt, "dir", FileType::kFolder);
  FileNode sub = AddFile(p, dir.id, "sub", FileType::kFolder);
  AddFile(p, sub.id, "deep.txt");
  AddFile(p, std::nullopt, "root.txt");
  FileNode keep_f = AddFile(keep, std::nullopt, "root.txt");

  ASSERT_EQ(Count("conversations"), 3);
  ASSERT_EQ(Count("messages"), 6);
  ASSERT_EQ(Count("tool_calls"), 6);
  ASSERT_EQ(Count("files"), 5);

  repo_->DeleteProject(p.id);
  EXPECT_FALSE(repo_->GetProject(p.id).has_value());
  EXPECT_EQ(Count("projects"), 1);
  EXPECT_EQ(Count("conversations"), 1);
  EXPECT_EQ(Count("messages"), 2);
  EXPECT_EQ(Count("tool_calls"), 2);
  EXPECT_EQ(Count("files"), 1);
  EXPECT_FALSE(repo_->GetConversation(c1.id).has_value());
  EXPECT_FALSE(repo_->FindProcessingMessage(p.id).has_value());
  EXPECT_TRUE(repo_->ListMessages(c1.id).empty());
  EXPECT_TRUE(repo_->ListFiles(p.id).empty());
  // The other project is untouched.
  EXPECT_TRUE(repo_->GetConversation(keep_c.id).has_value());
  EXPECT_EQ(repo_->ListMessages(keep_c.id).size(), 2u);
  EXPECT_EQ(repo_->ListMessages(keep_c.id)[1].tool_calls.size(), 2u);
  EXPECT_TRUE(repo_->GetFile(keep_f.id).has_value());
  EXPECT_TRUE(repo_->FindProcessingMessage(keep.id).has_value());
}

TEST_F(StoreSqliteRepo, CommittedDataSurvivesReopenAndRollbackDiscards) {
  Project kept = AddProject("u1", 1);
  db_->Exec("COMMIT");
  db_->Exec("BEGIN");
  Project dropped = AddProject("u1", 2);
  db_->Exec("ROLLBACK");
  const std::string path = dir_.File("polaris.db");
  repo_.reset();
  db_.reset();

  Database db(path, false);
  Migrate(db);
  SqliteRepo repo(db);
  EXPECT_TRUE(repo.GetProject(kept.id).has_value());
  EXPECT_FALSE(repo.GetProject(dropped.id).has_value());
}

}  // namespace
}  // namespace polaris::sqlite
