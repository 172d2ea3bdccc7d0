// The Convex function registry, run against a real SqliteRepo.
#include "realtime/functions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../services/services_test_util.h"
#include "domain/ids.h"
#include "domain/topics.h"
#include "services/files.h"
#include "views/documents.h"

namespace polaris::realtime {
namespace {
namespace json = boost::json;

struct Outcome {
  Result<json::value> result;
  std::vector<std::string> topics;
};

const std::vector<std::string_view> kQueries = {"messages:getMessages",
                                                "conversations:getMessages",
                                                "conversations:getConversations",
                                                "conversations:getByProject",
                                                "conversations:getById",
                                                "projects:get",
                                                "projects:getPartial",
                                                "projects:getById",
                                                "files:getFiles",
                                                "files:getFile",
                                                "files:getFilePath",
                                                "files:getFolderContents"};
const std::vector<std::string_view> kMutations = {
    "conversations:create",   "projects:create",  "projects:rename",
    "projects:deleteProject", "files:createFile", "files:createFolder",
    "files:renameFile",       "files:deleteFile", "files:updateFile"};

class Functions : public services_test::ServicesFixture {
 protected:
  void SetUp() override {
    ServicesFixture::SetUp();
    project_ = MakeProject(kAlice, "Alpha", 100);
  }

  Outcome Run(std::string_view path, const json::object& args, const std::string& user = kAlice,
              Millis now = 5000) {
    const Function* fn = FindFunction(CanonicalUdfPath(path));
    if (!fn) {
      ADD_FAILURE() << "unknown function " << path;
      return {Error::Internal("unknown function"), {}};
    }
    // As the hub runs a query: the repo records the topics its reads touched.
    FunctionContext ctx{repo(), user, now};
    repo().RecordReads(true);
    auto r = fn->run(ctx, args);
    auto topics = repo().TakeReadTopics();
    repo().RecordReads(false);
    return {std::move(r), std::move(topics)};
  }
  json::value Ok(std::string_view path, const json::object& args, const std::string& user = kAlice,
                 Millis now = 5000) {
    auto out = Run(path, args, user, now);
    if (!out.result.ok()) {
      ADD_FAILURE() << path << " failed: " << out.result.error().message;
      return nullptr;
    }
    return out.result.value();
  }
  std::string Err(std::string_view path, const json::object& args,
                  const std::string& user = kAlice) {
    auto out = Run(path, args, user);
    if (out.result.ok()) {
      ADD_FAILURE() << path << " succeeded: " << json::serialize(out.result.value());
      return "";
    }
    return out.result.error().message;
  }
  std::vector<std::string> Topics(std::string_view path, const json::object& args,
                                  const std::string& user = kAlice) {
    auto t = Run(path, args, user).topics;
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());
    return t;
  }
  static std::vector<std::string> Sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }
  static std::vector<std::string> Ids(const json::value& array) {
    std::vector<std::string> out;
    for (const auto& v : array.as_array()) out.emplace_back(v.at("_id").as_string());
    return out;
  }
  static std::vector<std::string> Names(const json::value& array) {
    std::vector<std::string> out;
    for (const auto& v : array.as_array()) out.emplace_back(v.at("name").as_string());
    return out;
  }
  std::string NewFile(const json::object& args) {
    json::object a = args;
    a.emplace("projectId", project_.id);
    EXPECT_TRUE(Ok("files:createFile", a).is_null());
    return Lookup(args, "file");
  }
  std::string NewFolder(const json::object& args) {
    json::object a = args;
    a.emplace("projectId", project_.id);
    EXPECT_TRUE(Ok("files:createFolder", a).is_null());
    return Lookup(args, "folder");
  }
  // The id of the node just created from args (mutations answer null).
  std::string Lookup(const json::object& args, const char* what) {
    std::optional<std::string> parent;
    if (auto* p = args.if_contains("parentId"); p && p->is_string()) {
      parent = std::string(p->as_string());
    }
    auto node = repo().FindChild(project_.id, parent, std::string(args.at("name").as_string()));
    if (!node) {
      ADD_FAILURE() << what << " not created";
      return "";
    }
    return node->id;
  }

  Project project_;
};

// ---- Registry -------------------------------------------------------------------------------

TEST(FunctionsRegistry, CanonicalUdfPath) {
  EXPECT_EQ(CanonicalUdfPath("messages:getMessages"), "messages:getMessages");
  EXPECT_EQ(CanonicalUdfPath("messages.js:getMessages"), "messages:getMessages");
  EXPECT_EQ(CanonicalUdfPath("messages"), "messages:default");
  EXPECT_EQ(CanonicalUdfPath("messages.js"), "messages:default");
  EXPECT_EQ(CanonicalUdfPath("dir/files.js:getFile"), "dir/files:getFile");
  EXPECT_EQ(CanonicalUdfPath("a:b:c"), "a:b:c");
  EXPECT_EQ(CanonicalUdfPath("a.js:b.js"), "a:b.js");
  EXPECT_EQ(CanonicalUdfPath(""), ":default");
}

TEST(FunctionsRegistry, KnowsEveryFunctionAndItsKind) {
  for (auto path : kQueries) {
    const Function* fn = FindFunction(path);
    ASSERT_NE(fn, nullptr) << path;
    EXPECT_EQ(fn->kind, FunctionKind::kQuery) << path;
  }
  for (auto path : kMutations) {
    const Function* fn = FindFunction(path);
    ASSERT_NE(fn, nullptr) << path;
    EXPECT_EQ(fn->kind, FunctionKind::kMutation) << path;
  }
}

TEST(FunctionsRegistry, AliasesShareTheirBody) {
  EXPECT_EQ(FindFunction("messages:getMessages")->run,
            FindFunction("conversations:getMessages")->run);
  EXPECT_EQ(FindFunction("conversations:getConversations")->run,
            FindFunction("conversations:getByProject")->run);
  EXPECT_NE(FindFunction("conversations:getById")->run,
            FindFunction("conversations:getMessages")->run);
}

TEST(FunctionsRegistry, UnknownFunctions) {
  EXPECT_EQ(FindFunction("messages:nope"), nullptr);
  EXPECT_EQ(FindFunction("nope:getMessages"), nullptr);
  EXPECT_EQ(FindFunction("messages:default"), nullptr);
  EXPECT_EQ(FindFunction(""), nullptr);
  EXPECT_EQ(FindFunction("messages.js:getMessages"), nullptr);  // takes a canonical path
  EXPECT_EQ(FindFunction("Messages:getMessages"), nullptr);
  EXPECT_NE(FindFunction(CanonicalUdfPath("messages.js:getMessages")), nullptr);
}

// ---- Rules for every function -----------------------------------------------------------------

TEST_F(Functions, UnauthenticatedIsRefusedFirst) {
  std::vector<std::string_view> all = kQueries;
  all.insert(all.end(), kMutations.begin(), kMutations.end());
  for (auto path : all) {
    for (const json::object& args :
         {json::object{}, json::object{{"projectId", project_.id}}, json::object{{"bogus", 1}}}) {
      auto out = Run(path, args, "");
      ASSERT_FALSE(out.result.ok()) << path;
      EXPECT_EQ(out.result.error().code, ErrorCode::kUnauthorized) << path;
      EXPECT_EQ(out.result.error().message, "Unauthorized") << path;
      EXPECT_TRUE(out.topics.empty()) << path;
    }
  }
  EXPECT_EQ(repo().ListProjects(kAlice, -1).size(), 1u);
}

TEST_F(Functions, ArgumentValidation) {
  const std::string cnv = NewId(Table::kConversation);
  EXPECT_EQ(Err("messages:getMessages", {}), "Invalid arguments: conversationId is required");
  EXPECT_EQ(Err("messages:getMessages", {{"conversationId", nullptr}}),
            "Invalid arguments: conversationId is required");
  EXPECT_EQ(Err("messages:getMessages", {{"conversationId", 42}}),
            "Invalid arguments: conversationId must be a string");
  EXPECT_EQ(Err("messages:getMessages", {{"conversationId", json::array{}}}),
            "Invalid arguments: conversationId must be a string");
  EXPECT_EQ(Err("messages:getMessages", {{"conversationId", cnv}, {"extra", true}}),
            "Invalid arguments: unexpected field extra");
  EXPECT_EQ(Err("projects:get", {{"limit", 1}}), "Invalid arguments: unexpected field limit");
  EXPECT_EQ(Err("projects:create", {{"name", 7}}), "Invalid arguments: name must be a string");
  EXPECT_EQ(Err("projects:rename", {{"id", project_.id}}), "Invalid arguments: name is required");
  EXPECT_EQ(Err("conversations:create", {{"projectId", project_.id}, {"title", 3}}),
            "Invalid arguments: title must be a string");
  EXPECT_EQ(Err("files:createFile", {{"projectId", project_.id}, {"name", "a"}}),
            "Invalid arguments: content is required");
  EXPECT_EQ(Err("files:createFile",
                {{"projectId", project_.id}, {"name", "a"}, {"content", "x"}, {"parentId", 1}}),
            "Invalid arguments: parentId must be a string");
  EXPECT_EQ(Err("files:renameFile", {{"id", NewId(Table::kFile)}, {"name", "x"}}),
            "Invalid arguments: newName is required");
  EXPECT_EQ(Err("files:updateFile", {{"id", NewId(Table::kFile)}, {"content", false}}),
            "Invalid arguments: content must be a string");
  EXPECT_EQ(Err("projects:getPartial", {{"limit", "2"}}),
            "Invalid arguments: limit must be a number");
  EXPECT_EQ(Err("projects:getPartial", {{"limit", -1}}),
            "Invalid arguments: limit must be a non-negative integer");
  EXPECT_EQ(Err("projects:getPartial", {{"limit", 1.5}}),
            "Invalid arguments: limit must be a non-negative integer");
  for (double bad : {std::numeric_limits<double>::infinity(), std::nan(""), -0.5}) {
    EXPECT_EQ(Err("projects:getPartial", {{"limit", bad}}),
              "Invalid arguments: limit must be a non-negative integer");
  }
  // Nothing was written by the refused mutations.
  EXPECT_EQ(repo().ListProjects(kAlice, -1).size(), 1u);
  EXPECT_TRUE(repo().ListFiles(project_.id).empty());
}

TEST_F(Functions, WrongTableAndMalformedIds) {
  const std::string file = NewId(Table::kFile);
  EXPECT_EQ(Err("messages:getMessages", {{"conversationId", project_.id}}),
            "Invalid arguments: conversationId is not a valid conversations id");
  EXPECT_EQ(Err("conversations:getConversations", {{"projectId", file}}),
            "Invalid arguments: projectId is not a valid projects id");
  EXPECT_EQ(Err("conversations:getById", {{"id", NewId(Table::kMessage)}}),
            "Invalid arguments: id is not a valid conversations id");
  EXPECT_EQ(Err("projects:getById", {{"id", "prj_"}}),
            "Invalid arguments: id is not a valid projects id");
  EXPECT_EQ(Err("projects:deleteProject", {{"id", ""}}),
            "Invalid arguments: id is not a valid projects id");
  EXPECT_EQ(Err("files:getFile", {{"id", project_.id}}),
            "Invalid arguments: id is not a valid files id");
  EXPECT_EQ(Err("files:getFolderContents", {{"projectId", project_.id}, {"parentId", "x"}}),
            "Invalid arguments: parentId is not a valid files id");
  EXPECT_EQ(Err("files:createFolder",
                {{"projectId", project_.id}, {"parentId", NewId(Table::kRun)}, {"name", "d"}}),
            "Invalid arguments: parentId is not a valid files id");
  EXPECT_EQ(Err("conversations:create", {{"projectId", std::string(5000, 'p')}}),
            "Invalid arguments: projectId is not a valid projects id");
  EXPECT_EQ(Err("files:deleteFile", {{"id", "fil_\xff\xfe"}}),
            "Invalid arguments: id is not a valid files id");
}

// ---- Conversations and messages ---------------------------------------------------------------

TEST_F(Functions, GetMessagesOldestFirstWithAlias) {
  Conversation c = MakeConversation(kAlice, project_.id, 200);
  Message second = MakeMessage(c, Role::kAssistant, 400, "two");
  Message first = MakeMessage(c, Role::kUser, 300, "one");
  MakeMessage(MakeConversation(kAlice, project_.id, 200), Role::kUser, 350, "elsewhere");

  json::value v = Ok("messages:getMessages", {{"conversationId", c.id}});
  EXPECT_EQ(Ids(v), (std::vector<std::string>{first.id, second.id}));
  EXPECT_EQ(v, views::ToJsonArray(repo().ListMessages(c.id)));
  EXPECT_EQ(v.as_array()[1].at("status"), "completed");
  EXPECT_EQ(Ok("conversations:getMessages", {{"conversationId", c.id}}), v);
  EXPECT_EQ(Ok("messages.js:getMessages", {{"conversationId", c.id}}), v);

  EXPECT_EQ(Topics("messages:getMessages", {{"conversationId", c.id}}),
            Sorted({topics::Messages(c.id), topics::Conversations(project_.id)}));
  Conversation empty = MakeConversation(kAlice, project_.id, 900);
  EXPECT_TRUE(Ok("messages:getMessages", {{"conversationId", empty.id}}).as_array().empty());
}

TEST_F(Functions, GetMessagesNotFound) {
  Conversation c = MakeConversation(kAlice, project_.id);
  MakeMessage(c, Role::kUser, 300);
  EXPECT_EQ(Err("messages:getMessages", {{"conversationId", NewId(Table::kConversation)}}),
            "Conversation not found");
  EXPECT_EQ(Err("messages:getMessages", {{"conversationId", c.id}}, kBob),
            "Conversation not found");
  auto out = Run("conversations:getMessages", {{"conversationId", c.id}}, kBob);
  EXPECT_EQ(out.result.error().code, ErrorCode::kNotFound);
  // Once its project is gone, the same query fails the same way.
  ASSERT_TRUE(Ok("projects:deleteProject", {{"id", project_.id}}).is_null());
  EXPECT_EQ(Err("messages:getMessages", {{"conversationId", c.id}}), "Conversation not found");
}

TEST_F(Functions, GetConversationsNewestFirstWithAlias) {
  Conversation older = MakeConversation(kAlice, project_.id, 200);
  Conversation newer = MakeConversation(kAlice, project_.id, 300);
  Conversation same_time = MakeConversation(kAlice, project_.id, 300);  // inserted later
  Project other = MakeProject(kAlice, "Other");
  MakeConversation(kAlice, other.id, 250);

  json::value v = Ok("conversations:getConversations", {{"projectId", project_.id}});
  EXPECT_EQ(Ids(v), (std::vector<std::string>{same_time.id, newer.id, older.id}));
  EXPECT_EQ(v, views::ToJsonArray(repo().ListConversations(project_.id)));
  EXPECT_EQ(Ok("conversations:getByProject", {{"projectId", project_.id}}), v);
  EXPECT_EQ(Topics("conversations:getByProject", {{"projectId", project_.id}}),
            std::vector<std::string>{topics::Conversations(project_.id)});

  EXPECT_EQ(Err("conversations:getConversations", {{"projectId", project_.id}}, kBob),
            "Project not found");
  EXPECT_EQ(Err("conversations:getByProject", {{"projectId", NewId(Table::kProject)}}),
            "Project not found");
}

TEST_F(Functions, GetConversationById) {
  Conversation c = MakeConversation(kAlice, project_.id, 200);
  json::value v = Ok("conversations:getById", {{"id", c.id}});
  EXPECT_EQ(v, views::ToJson(c));
  EXPECT_EQ(v.at("title"), "New conversation");
  EXPECT_EQ(Topics("conversations:getById", {{"id", c.id}}),
            std::vector<std::string>{topics::Conversations(project_.id)});
  EXPECT_EQ(Err("conversations:getById", {{"id", c.id}}, kBob), "Conversation not found");
  EXPECT_EQ(Err("conversations:getById", {{"id", NewId(Table::kConversation)}}),
            "Conversation not found");
}

TEST_F(Functions, CreateConversation) {
  json::value id = Ok("conversations:create", {{"projectId", project_.id}}, kAlice, 777);
  ASSERT_TRUE(id.is_string());
  auto c = repo().GetConversation(std::string(id.as_string()));
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(IsValidId(c->id, Table::kConversation));
  EXPECT_EQ(c->title, "New conversation");
  EXPECT_EQ(c->project_id, project_.id);
  EXPECT_EQ(c->creation_time, 777);
  EXPECT_EQ(c->updated_at, 777);

  json::value titled =
      Ok("conversations:create", {{"projectId", project_.id}, {"title", "Refactor"}});
  EXPECT_EQ(repo().GetConversation(std::string(titled.as_string()))->title, "Refactor");
  json::value null_title =
      Ok("conversations:create", {{"projectId", project_.id}, {"title", nullptr}});
  EXPECT_EQ(repo().GetConversation(std::string(null_title.as_string()))->title, "New conversation");
  json::value blank = Ok("conversations:create", {{"projectId", project_.id}, {"title", "  "}});
  EXPECT_EQ(repo().GetConversation(std::string(blank.as_string()))->title, "New conversation");

  EXPECT_EQ(
      Err("conversations:create", {{"projectId", project_.id}, {"title", std::string(501, 'x')}}),
      "Title is too long (at most 500 characters)");
  EXPECT_EQ(Err("conversations:create", {{"projectId", project_.id}}, kBob), "Project not found");
  EXPECT_EQ(repo().ListConversations(project_.id).size(), 4u);
}

// ---- Projects ---------------------------------------------------------------------------------

TEST_F(Functions, ProjectsNewestFirstAndPartial) {
  json::value b = Ok("projects:create", {{"name", "Beta"}}, kAlice, 200);
  json::value c = Ok("projects:create", {{"name", "Gamma"}}, kAlice, 300);
  ASSERT_TRUE(b.is_string() && c.is_string());
  EXPECT_TRUE(IsValidId(b.as_string(), Table::kProject));
  MakeProject(kBob, "Bob's", 400);

  json::value all = Ok("projects:get", {});
  EXPECT_EQ(Ids(all), (std::vector<std::string>{std::string(c.as_string()),
                                                std::string(b.as_string()), project_.id}));
  EXPECT_EQ(all, views::ToJsonArray(repo().ListProjects(kAlice, -1)));
  EXPECT_EQ(all.as_array()[0].at("ownerId"), kAlice);
  EXPECT_EQ(all.as_array()[0].at("name"), "Gamma");

  EXPECT_EQ(Ids(Ok("projects:getPartial", {{"limit", 2}})),
            (std::vector<std::string>{std::string(c.as_string()), std::string(b.as_string())}));
  EXPECT_EQ(Ok("projects:getPartial", {{"limit", 1.0}}).as_array().size(), 1u);
  EXPECT_TRUE(Ok("projects:getPartial", {{"limit", 0}}).as_array().empty());
  EXPECT_EQ(Ok("projects:getPartial", {{"limit", 1e12}}).as_array().size(), 3u);
  EXPECT_EQ(Ok("projects:getPartial", {{"limit", std::uint64_t(1) << 63}}).as_array().size(), 3u);
  EXPECT_EQ(Ok("projects:get", {}, kBob).as_array().size(), 1u);

  EXPECT_EQ(Topics("projects:get", {}), std::vector<std::string>{topics::Projects(kAlice)});
  EXPECT_EQ(Topics("projects:getPartial", {{"limit", 1}}),
            std::vector<std::string>{topics::Projects(kAlice)});
  EXPECT_EQ(Topics("projects:getById", {{"id", project_.id}}),
            std::vector<std::string>{topics::Projects(kAlice)});

  EXPECT_EQ(Err("projects:create", {{"name", " "}}), "Project name must not be empty");
  EXPECT_EQ(Err("projects:create", {}), "Invalid arguments: name is required");
}

TEST_F(Functions, ProjectById) {
  EXPECT_EQ(Ok("projects:getById", {{"id", project_.id}}), views::ToJson(project_));
  EXPECT_EQ(Err("projects:getById", {{"id", project_.id}}, kBob), "Project not found");
  EXPECT_EQ(Err("projects:getById", {{"id", NewId(Table::kProject)}}), "Project not found");
}

TEST_F(Functions, RenameProject) {
  EXPECT_TRUE(
      Ok("projects:rename", {{"id", project_.id}, {"name", "Renamed"}}, kAlice, 900).is_null());
  auto p = repo().GetProject(project_.id);
  EXPECT_EQ(p->name, "Renamed");
  EXPECT_EQ(p->updated_at, 900);
  EXPECT_EQ(Err("projects:rename", {{"id", project_.id}, {"name", "Mine"}}, kBob),
            "Project not found");
  EXPECT_EQ(Err("projects:rename", {{"id", project_.id}, {"name", ""}}),
            "Project name must not be empty");
  EXPECT_EQ(repo().GetProject(project_.id)->name, "Renamed");
}

TEST_F(Functions, DeleteProjectCascades) {
  Conversation c = MakeConversation(kAlice, project_.id);
  MakeMessage(c, Role::kUser, 300);
  NewFile({{"name", "a.txt"}, {"content", "x"}});
  EXPECT_EQ(Err("projects:deleteProject", {{"id", project_.id}}, kBob), "Project not found");
  EXPECT_TRUE(repo().GetProject(project_.id).has_value());

  EXPECT_TRUE(Ok("projects:deleteProject", {{"id", project_.id}}).is_null());
  EXPECT_FALSE(repo().GetProject(project_.id).has_value());
  EXPECT_FALSE(repo().GetConversation(c.id).has_value());
  EXPECT_TRUE(repo().ListMessages(c.id).empty());
  EXPECT_TRUE(repo().ListFiles(project_.id).empty());
  EXPECT_EQ(Err("projects:deleteProject", {{"id", project_.id}}), "Project not found");
  EXPECT_EQ(Err("files:getFiles", {{"projectId", project_.id}}), "Project not found");
}

// ---- Files ------------------------------------------------------------------------------------

TEST_F(Functions, CreateAndReadFiles) {
  std::string src = NewFolder({{"name", "src"}});
  std::string main = NewFile({{"name", "main.ts"}, {"parentId", src}, {"content", "let a;"}});
  std::string readme = NewFile({{"name", "README.md"}, {"parentId", nullptr}, {"content", ""}});

  json::value files = Ok("files:getFiles", {{"projectId", project_.id}});
  EXPECT_EQ(files, views::ToJsonArray(repo().ListFiles(project_.id)));
  EXPECT_EQ(Sorted(Ids(files)), Sorted({src, main, readme}));

  json::value file = Ok("files:getFile", {{"id", main}});
  EXPECT_EQ(file, views::ToJson(*repo().GetFile(main)));
  EXPECT_EQ(file.at("content"), "let a;");
  EXPECT_EQ(file.at("parentId"), json::value(src));
  EXPECT_EQ(file.at("type"), "file");
  EXPECT_EQ(Ok("files:getFile", {{"id", src}}).at("type"), "folder");
  EXPECT_EQ(Ok("files:getFile", {{"id", readme}}).at("content"), "");

  for (const std::string& id : {src, main, readme}) {
    EXPECT_EQ(Topics("files:getFile", {{"id", id}}),
              std::vector<std::string>{topics::Files(project_.id)});
  }
  EXPECT_EQ(Topics("files:getFiles", {{"projectId", project_.id}}),
            std::vector<std::string>{topics::Files(project_.id)});
  EXPECT_EQ(Err("files:getFile", {{"id", NewId(Table::kFile)}}), "File not found");
}

TEST_F(Functions, FileChangesBumpTimestamps) {
  ASSERT_TRUE(Ok("files:createFile",
                 {{"projectId", project_.id}, {"name", "a.txt"}, {"content", "1"}}, kAlice, 1000)
                  .is_null());
  std::string id = Lookup({{"name", "a.txt"}}, "file");
  EXPECT_EQ(repo().GetFile(id)->updated_at, 1000);
  EXPECT_EQ(ProjectUpdatedAt(project_.id), 1000);

  EXPECT_TRUE(Ok("files:updateFile", {{"id", id}, {"content", "2"}}, kAlice, 2000).is_null());
  EXPECT_EQ(repo().GetFile(id)->content, "2");
  EXPECT_EQ(repo().GetFile(id)->updated_at, 2000);
  EXPECT_EQ(ProjectUpdatedAt(project_.id), 2000);

  EXPECT_TRUE(Ok("files:renameFile", {{"id", id}, {"newName", "b.txt"}}, kAlice, 3000).is_null());
  EXPECT_EQ(repo().GetFile(id)->name, "b.txt");
  EXPECT_EQ(repo().GetFile(id)->updated_at, 3000);
  EXPECT_EQ(ProjectUpdatedAt(project_.id), 3000);

  ASSERT_TRUE(Ok("files:createFolder", {{"projectId", project_.id}, {"name", "d"}}, kAlice, 4000)
                  .is_null());
  EXPECT_EQ(ProjectUpdatedAt(project_.id), 4000);

  EXPECT_TRUE(Ok("files:deleteFile", {{"id", id}}, kAlice, 5000).is_null());
  EXPECT_FALSE(repo().GetFile(id).has_value());
  EXPECT_EQ(ProjectUpdatedAt(project_.id), 5000);
}

TEST_F(Functions, CreateConflictsAndParents) {
  std::string dir = NewFolder({{"name", "dir"}});
  std::string file = NewFile({{"name", "a.txt"}, {"content", "x"}});
  const json::object base{{"projectId", project_.id}, {"content", "y"}};
  auto with = [&](json::object extra) {
    json::object a = base;
    for (auto& kv : extra) a[kv.key()] = kv.value();
    return a;
  };
  EXPECT_EQ(Err("files:createFile", with({{"name", "a.txt"}})), "File already exists");
  EXPECT_EQ(Err("files:createFolder", {{"projectId", project_.id}, {"name", "dir"}}),
            "Folder already exists");
  EXPECT_EQ(Err("files:createFile", with({{"name", "dir"}})),
            "A folder with this name already exists in this location");
  EXPECT_EQ(Err("files:createFolder", {{"projectId", project_.id}, {"name", "a.txt"}}),
            "A file with this name already exists in this location");
  EXPECT_EQ(repo().GetFile(file)->content, "x");

  EXPECT_EQ(Err("files:createFile", with({{"name", "b"}, {"parentId", file}})),
            "Parent is not a folder");
  EXPECT_EQ(Err("files:createFile", with({{"name", "b"}, {"parentId", NewId(Table::kFile)}})),
            "Parent folder not found");
  Project other = MakeProject(kAlice, "Other");
  auto foreign =
      services::CreateNodeForUser(repo(), kAlice, other.id, std::nullopt, "f", std::nullopt, 1);
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(Err("files:createFile", with({{"name", "b"}, {"parentId", foreign->id}})),
            "Parent folder not found");

  EXPECT_EQ(Err("files:createFile", with({{"name", "x/y"}})),
            "Invalid name: must not contain '/' or '\\'");
  EXPECT_EQ(Err("files:createFile", with({{"name", ""}})), "Invalid path: empty segment");
  EXPECT_EQ(Err("files:createFolder", {{"projectId", project_.id}, {"name", ".."}}),
            "Invalid path: '.' and '..' are not allowed");

  // The same name in another folder is fine.
  NewFile({{"name", "a.txt"}, {"parentId", dir}, {"content", "z"}});
  EXPECT_EQ(repo().ListFiles(project_.id).size(), 3u);
}

TEST_F(Functions, RenameFileConflicts) {
  std::string a = NewFile({{"name", "a.txt"}, {"content", "x"}});
  NewFile({{"name", "b.txt"}, {"content", "x"}});
  NewFolder({{"name", "sub"}});
  EXPECT_EQ(Err("files:renameFile", {{"id", a}, {"newName", "b.txt"}}),
            "A file with this name already exists in this location");
  EXPECT_EQ(Err("files:renameFile", {{"id", a}, {"newName", "sub"}}),
            "A folder with this name already exists in this location");
  EXPECT_EQ(Err("files:renameFile", {{"id", a}, {"newName", "../x"}}),
            "Invalid name: must not contain '/' or '\\'");
  EXPECT_TRUE(Ok("files:renameFile", {{"id", a}, {"newName", "a.txt"}}).is_null());
  EXPECT_EQ(repo().GetFile(a)->name, "a.txt");
  EXPECT_EQ(Err("files:renameFile", {{"id", NewId(Table::kFile)}, {"newName", "c"}}),
            "File not found");
}

TEST_F(Functions, UpdateAndDeleteFiles) {
  std::string dir = NewFolder({{"name", "dir"}});
  std::string sub = NewFolder({{"name", "sub"}, {"parentId", dir}});
  std::string deep = NewFile({{"name", "deep.txt"}, {"parentId", sub}, {"content", "x"}});
  std::string keep = NewFile({{"name", "keep.txt"}, {"content", "x"}});

  EXPECT_EQ(Err("files:updateFile", {{"id", dir}, {"content", "x"}}), "A folder has no content");
  EXPECT_TRUE(Ok("files:updateFile", {{"id", deep}, {"content", ""}}).is_null());
  EXPECT_EQ(repo().GetFile(deep)->content, "");

  EXPECT_TRUE(Ok("files:deleteFile", {{"id", dir}}).is_null());
  EXPECT_FALSE(repo().GetFile(sub).has_value());
  EXPECT_FALSE(repo().GetFile(deep).has_value());
  EXPECT_TRUE(repo().GetFile(keep).has_value());
  EXPECT_EQ(Err("files:deleteFile", {{"id", dir}}), "File not found");
  EXPECT_EQ(Err("files:updateFile", {{"id", deep}, {"content", "y"}}), "File not found");
}

TEST_F(Functions, GetFilePath) {
  std::string a = NewFolder({{"name", "a"}});
  std::string b = NewFolder({{"name", "b"}, {"parentId", a}});
  std::string c = NewFile({{"name", "c.txt"}, {"parentId", b}, {"content", ""}});
  json::value path = Ok("files:getFilePath", {{"id", c}});
  EXPECT_EQ(path, (json::array{json::object{{"_id", a}, {"name", "a"}},
                               json::object{{"_id", b}, {"name", "b"}},
                               json::object{{"_id", c}, {"name", "c.txt"}}}));
  EXPECT_EQ(Ok("files:getFilePath", {{"id", a}}),
            (json::array{json::object{{"_id", a}, {"name", "a"}}}));
  EXPECT_EQ(Topics("files:getFilePath", {{"id", c}}),
            std::vector<std::string>{topics::Files(project_.id)});
  EXPECT_EQ(Err("files:getFilePath", {{"id", NewId(Table::kFile)}}), "File not found");
}

TEST_F(Functions, GetFolderContentsOrder) {
  for (const char* name : {"b.txt", "A.txt", "a.txt", "_x"}) {
    NewFile({{"name", name}, {"content", ""}});
  }
  NewFolder({{"name", "zeta"}});
  std::string alpha = NewFolder({{"name", "Alpha"}});
  NewFolder({{"name", "beta"}});
  std::string inner = NewFile({{"name", "inner"}, {"parentId", alpha}, {"content", "x"}});

  const std::vector<std::string> root{"Alpha", "beta", "zeta", "_x", "a.txt", "A.txt", "b.txt"};
  json::value v = Ok("files:getFolderContents", {{"projectId", project_.id}});
  EXPECT_EQ(Names(v), root);
  EXPECT_EQ(v.as_array()[0], views::ToJson(*repo().GetFile(alpha)));
  EXPECT_EQ(
      Names(Ok("files:getFolderContents", {{"projectId", project_.id}, {"parentId", nullptr}})),
      root);
  json::value in_alpha =
      Ok("files:getFolderContents", {{"projectId", project_.id}, {"parentId", alpha}});
  EXPECT_EQ(Ids(in_alpha), std::vector<std::string>{inner});
  // A folder that does not exist (any more) has no contents, as in the original.
  EXPECT_TRUE(
      Ok("files:getFolderContents", {{"projectId", project_.id}, {"parentId", NewId(Table::kFile)}})
          .as_array()
          .empty());
  EXPECT_EQ(Topics("files:getFolderContents", {{"projectId", project_.id}, {"parentId", alpha}}),
            std::vector<std::string>{topics::Files(project_.id)});
}

TEST_F(Functions, OtherUsersFilesLookMissing) {
  std::string dir = NewFolder({{"name", "dir"}});
  std::string file = NewFile({{"name", "a.txt"}, {"parentId", dir}, {"content", "secret"}});
  Project bobs = MakeProject(kBob, "Bob's");

  EXPECT_EQ(Err("files:getFiles", {{"projectId", project_.id}}, kBob), "Project not found");
  EXPECT_EQ(Err("files:getFile", {{"id", file}}, kBob), "File not found");
  EXPECT_EQ(Err("files:getFilePath", {{"id", file}}, kBob), "File not found");
  EXPECT_EQ(Err("files:getFolderContents", {{"projectId", project_.id}}, kBob),
            "Project not found");
  EXPECT_TRUE(Ok("files:getFolderContents", {{"projectId", bobs.id}, {"parentId", dir}}, kBob)
                  .as_array()
                  .empty());
  EXPECT_EQ(
      Err("files:createFile", {{"projectId", project_.id}, {"name", "b"}, {"content", "x"}}, kBob),
      "Project not found");
  EXPECT_EQ(
      Err("files:createFolder", {{"projectId", bobs.id}, {"parentId", dir}, {"name", "b"}}, kBob),
      "Parent folder not found");
  EXPECT_EQ(Err("files:renameFile", {{"id", file}, {"newName", "b"}}, kBob), "File not found");
  EXPECT_EQ(Err("files:updateFile", {{"id", file}, {"content", "mine"}}, kBob), "File not found");
  EXPECT_EQ(Err("files:deleteFile", {{"id", dir}}, kBob), "File not found");
  auto f = repo().GetFile(file);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->name, "a.txt");
  EXPECT_EQ(f->content, "secret");
  EXPECT_TRUE(repo().ListFiles(bobs.id).empty());
}

TEST_F(Functions, FailedLookupsNameNoTopics) {
  // A query refused for its arguments reads nothing, so it depends on nothing.
  EXPECT_TRUE(Topics("files:getFile", {{"id", "bad"}}).empty());
  EXPECT_TRUE(Topics("projects:getPartial", {{"limit", -3}}).empty());
  // A missing document gives no project to watch.
  EXPECT_TRUE(Topics("files:getFile", {{"id", NewId(Table::kFile)}}).empty());
  EXPECT_TRUE(Topics("conversations:getById", {{"id", NewId(Table::kConversation)}}).empty());
}

// The repo records reads only while a live query runs: requests and mutations pay nothing.
TEST_F(Functions, ReadsAreRecordedOnlyWhileAsked) {
  repo().ListProjects(kAlice, -1);
  EXPECT_TRUE(repo().TakeReadTopics().empty());
  repo().RecordReads(true);
  repo().ListProjects(kAlice, -1);
  repo().RecordReads(false);
  repo().ListProjects(kAlice, -1);
  EXPECT_TRUE(repo().TakeReadTopics().empty());  // switching clears what was recorded
  repo().RecordReads(true);
  repo().ListProjects(kAlice, -1);
  EXPECT_EQ(repo().TakeReadTopics(), std::vector<std::string>{topics::Projects(kAlice)});
  repo().RecordReads(false);
}

// Tool-call arguments come from the model; keys a Convex client rejects ('$' first, control
// or non-ASCII characters) must not break the whole query: such a value becomes its JSON text.
TEST_F(Functions, GetMessagesKeepsToolCallsConvexSafeForConvexOnly) {
  Conversation c = MakeConversation(kAlice, project_.id, 200);
  Message m;
  m.id = NewId(Table::kMessage);
  m.creation_time = 300;
  m.conversation_id = c.id;
  m.project_id = c.project_id;
  m.role = Role::kAssistant;
  m.status = MessageStatus::kCompleted;
  m.tool_calls = {
      ToolCall{"call_1", "write_file", R"({"path":"a.ts","content":"x"})", R"({"success":true})"},
      ToolCall{"call_2", "read_file", R"({"$ref":"#/x","nested":{"ok":1}})", {}},
      ToolCall{"call_3", "read_file", R"({"path":{"caf\u00e9":1}})", {}}};
  repo().InsertMessage(m);

  json::value v = Ok("messages:getMessages", {{"conversationId", c.id}});
  const auto& calls = v.as_array()[0].at("toolCalls").as_array();
  EXPECT_EQ(calls[0].at("args"), json::parse(R"({"path":"a.ts","content":"x"})"));
  EXPECT_EQ(calls[0].at("result"), json::parse(R"({"success":true})"));
  ASSERT_TRUE(calls[1].at("args").is_string());
  EXPECT_EQ(json::parse(calls[1].at("args").as_string()),
            json::parse(R"({"$ref":"#/x","nested":{"ok":1}})"));
  EXPECT_TRUE(calls[2].at("args").is_string());

  // SSE is not a Convex client: it asks for the documents as they are.
  FunctionContext plain{repo(), kAlice, 5000, /*convex_safe=*/false};
  auto raw = FindFunction("messages:getMessages", FunctionKind::kQuery)
                 ->run(plain, json::object{{"conversationId", c.id}});
  ASSERT_TRUE(raw.ok());
  const auto& raw_calls = raw.value().as_array()[0].at("toolCalls").as_array();
  EXPECT_EQ(raw_calls[1].at("args"), json::parse(R"({"$ref":"#/x","nested":{"ok":1}})"));
  EXPECT_EQ(raw_calls[2].at("args"), json::parse(R"({"path":{"caf\u00e9":1}})"));
}

// Arguments arrive as [{...}] over the sync protocol and as {...} on /api/function.
TEST_F(Functions, ArgsFromWireShapes) {
  json::value one = json::parse(R"([{"a":1}])");
  json::value obj = json::parse(R"({"a":1})");
  json::value empty = json::parse("[]");
  EXPECT_EQ(ArgsFromWire(&one), (json::object{{"a", 1}}));
  EXPECT_EQ(ArgsFromWire(&obj), (json::object{{"a", 1}}));
  EXPECT_EQ(ArgsFromWire(&empty), json::object{});
  EXPECT_EQ(ArgsFromWire(nullptr), json::object{});
  for (const char* bad : {R"([{"a":1},{"b":2}])", "[1]", "\"x\"", "3", "null"}) {
    json::value v = json::parse(bad);
    EXPECT_FALSE(ArgsFromWire(&v)) << bad;
  }
  EXPECT_EQ(FindFunction("messages:getMessages", FunctionKind::kMutation), nullptr);
  EXPECT_NE(FindFunction("messages.js:getMessages", FunctionKind::kQuery), nullptr);
  EXPECT_EQ(UnknownFunctionError("x:y"), "Could not find public function for 'x:y'");
}

}  // namespace
}  // namespace polaris::realtime
