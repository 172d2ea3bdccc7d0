#include "agent/tools.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "domain/ids.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_repo.h"

namespace polaris::agent {
namespace {

namespace json = boost::json;

constexpr Millis kCreated = 1000;

class AgentToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "polaris_agent_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    db_ = std::make_unique<sqlite::Database>(dir_ + "/test.db", false);
    sqlite::Migrate(*db_);
    repo_ = std::make_unique<sqlite::SqliteRepo>(*db_);
    project_ = Project{NewId(Table::kProject), kCreated, "p", "user_1", kCreated};
    repo_->InsertProject(project_);
  }
  void TearDown() override {
    repo_.reset();
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  json::object Run(std::string_view name, std::string_view args, Millis now = 2000) {
    return ExecuteTool(*repo_, project_.id, name, args, now);
  }
  json::object Run(std::string_view name, const json::object& args, Millis now = 2000) {
    return Run(name, json::serialize(args), now);
  }
  // Runs a call that must succeed.
  json::object Ok(std::string_view name, const json::object& args, Millis now = 2000) {
    json::object r = Run(name, args, now);
    EXPECT_EQ(r["success"], true) << name << " " << json::serialize(args) << " -> "
                                  << json::serialize(r);
    return r;
  }
  // Runs a call that must fail; returns its error sentence.
  std::string Fails(std::string_view name, std::string_view args) {
    json::object r = Run(name, args);
    EXPECT_EQ(r["success"], false) << name << " " << args << " -> " << json::serialize(r);
    EXPECT_EQ(r.size(), 2u) << json::serialize(r);
    auto it = r.find("error");
    if (it == r.end() || !it->value().is_string()) {
      ADD_FAILURE() << "no error sentence: " << json::serialize(r);
      return "";
    }
    EXPECT_FALSE(it->value().get_string().empty());
    return std::string(it->value().get_string());
  }
  std::string Fails(std::string_view name, const json::object& args) {
    return Fails(name, json::serialize(args));
  }
  void Write(const std::string& path, const std::string& content) {
    Ok("write_file", {{"path", path}, {"content", content}});
  }
  std::string Read(const std::string& path) {
    json::object r = Ok("read_file", {{"path", path}});
    return r.contains("content") ? std::string(r["content"].as_string()) : "<none>";
  }
  std::vector<std::string> Structure() {
    json::object r = Ok("get_project_structure", json::object{});
    std::vector<std::string> out;
    for (const auto& p : r["paths"].as_array()) out.emplace_back(p.as_string());
    return out;
  }
  // list_files as "name:type" strings.
  std::vector<std::string> List(const json::object& args) {
    json::object r = Ok("list_files", args);
    std::vector<std::string> out;
    for (const auto& e : r["entries"].as_array()) {
      const auto& o = e.as_object();
      EXPECT_EQ(o.size(), 2u);
      out.push_back(std::string(o.at("name").as_string()) + ":" +
                    std::string(o.at("type").as_string()));
    }
    return out;
  }
  // search_files as "path:line:text" strings.
  std::vector<std::string> Search(const json::object& args) {
    json::object r = Ok("search_files", args);
    std::vector<std::string> out;
    for (const auto& m : r["matches"].as_array()) {
      const auto& o = m.as_object();
      out.push_back(std::string(o.at("path").as_string()) + ":" +
                    std::to_string(o.at("line").to_number<std::int64_t>()) + ":" +
                    std::string(o.at("text").as_string()));
    }
    return out;
  }
  Millis ProjectUpdatedAt() { return repo_->GetProject(project_.id)->updated_at; }
  std::size_t NodeCount() { return repo_->ListFiles(project_.id).size(); }

  std::string dir_;
  std::unique_ptr<sqlite::Database> db_;
  std::unique_ptr<sqlite::SqliteRepo> repo_;
  Project project_;
};

using Strings = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------
// Definitions

TEST(AgentToolsDefinitions, OffersTheEightToolsWithObjectSchemas) {
  json::array defs = ToolDefinitions();
  std::set<std::string> names;
  for (const auto& d : defs) {
    const auto& tool = d.as_object();
    EXPECT_EQ(tool.at("type"), "function");
    const auto& fn = tool.at("function").as_object();
    std::string name(fn.at("name").as_string());
    names.insert(name);
    EXPECT_GT(fn.at("description").as_string().size(), 20u) << name;
    const auto& params = fn.at("parameters").as_object();
    EXPECT_EQ(params.at("type"), "object") << name;
    const auto& props = params.at("properties").as_object();
    for (const auto& r : params.at("required").as_array()) {
      EXPECT_TRUE(props.contains(r.as_string())) << name << " requires unknown " << r;
    }
    for (const auto& [key, schema] : props) {
      EXPECT_TRUE(schema.as_object().contains("type")) << name << "." << key;
      EXPECT_TRUE(schema.as_object().contains("description")) << name << "." << key;
    }
  }
  EXPECT_EQ(defs.size(), 8u);
  EXPECT_EQ(names, (std::set<std::string>{"write_file", "read_file", "list_files", "delete_file",
                                          "rename_file", "create_folder", "search_files",
                                          "get_project_structure"}));
}

// The read-only ones run on a store reader; anything that writes must stay on the writer.
TEST(AgentToolsDefinitions, OnlyTheToolsThatReadAreReadOnly) {
  for (const char* t : {"read_file", "list_files", "search_files", "get_project_structure"}) {
    EXPECT_TRUE(IsReadOnlyTool(t)) << t;
  }
  for (const char* t : {"write_file", "delete_file", "rename_file", "create_folder", "nope", ""}) {
    EXPECT_FALSE(IsReadOnlyTool(t)) << t;
  }
}

TEST(AgentToolsDefinitions, RequiredArgumentsMatchTheInterface) {
  std::map<std::string, Strings> required;
  for (const auto& d : ToolDefinitions()) {
    const auto& fn = d.as_object().at("function").as_object();
    Strings req;
    for (const auto& r : fn.at("parameters").as_object().at("required").as_array()) {
      req.emplace_back(r.as_string());
    }
    required[std::string(fn.at("name").as_string())] = req;
  }
  EXPECT_EQ(required["write_file"], (Strings{"path", "content"}));
  EXPECT_EQ(required["read_file"], (Strings{"path"}));
  EXPECT_EQ(required["list_files"], (Strings{}));
  EXPECT_EQ(required["delete_file"], (Strings{"path"}));
  EXPECT_EQ(required["rename_file"], (Strings{"path", "newName"}));
  EXPECT_EQ(required["create_folder"], (Strings{"path"}));
  EXPECT_EQ(required["search_files"], (Strings{"pattern"}));
  EXPECT_EQ(required["get_project_structure"], (Strings{}));
}

// ---------------------------------------------------------------------------------------------
// write_file / read_file

TEST_F(AgentToolsTest, WriteFileCreatesParentsAndReadsBack) {
  json::object r = Ok("write_file", {{"path", "src/lib/a.ts"}, {"content", "export {}\n"}}, 5000);
  ASSERT_TRUE(r["fileId"].is_string());
  EXPECT_TRUE(IsValidId(r["fileId"].as_string(), Table::kFile));
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(Read("src/lib/a.ts"), "export {}\n");
  EXPECT_EQ(List({}), (Strings{"src:folder"}));
  EXPECT_EQ(List({{"path", "src"}}), (Strings{"lib:folder"}));
  EXPECT_EQ(ProjectUpdatedAt(), 5000);
  auto file = repo_->GetFile(std::string(r["fileId"].as_string()));
  ASSERT_TRUE(file);
  EXPECT_EQ(file->updated_at, 5000);
  EXPECT_EQ(file->creation_time, 5000);
}

TEST_F(AgentToolsTest, WriteFileReplacesContentKeepingTheId) {
  json::object first = Ok("write_file", {{"path", "a.txt"}, {"content", "one"}}, 2000);
  json::object second = Ok("write_file", {{"path", "a.txt"}, {"content", "two"}}, 3000);
  EXPECT_EQ(first["fileId"], second["fileId"]);
  EXPECT_EQ(Read("a.txt"), "two");
  EXPECT_EQ(NodeCount(), 1u);
  auto file = repo_->GetFile(std::string(second["fileId"].as_string()));
  EXPECT_EQ(file->updated_at, 3000);
  EXPECT_EQ(file->creation_time, 2000);
  EXPECT_EQ(ProjectUpdatedAt(), 3000);
}

TEST_F(AgentToolsTest, WriteFileKeepsUnicodeAndEmptyContent) {
  Write("empty.txt", "");
  Write("ünï/cødé 🚀.md", "héllo\n世界");
  EXPECT_EQ(Read("empty.txt"), "");
  EXPECT_EQ(Read("ünï/cødé 🚀.md"), "héllo\n世界");
}

TEST_F(AgentToolsTest, WriteFileRefusesFolderPathsAndFilesAsFolders) {
  Ok("create_folder", {{"path", "dir"}});
  Write("f.txt", "x");
  EXPECT_NE(Fails("write_file", {{"path", "dir"}, {"content", "x"}}).find("folder"),
            std::string::npos);
  EXPECT_NE(Fails("write_file", {{"path", "f.txt/inner.txt"}, {"content", "x"}}).find("f.txt"),
            std::string::npos);
  EXPECT_EQ(Read("f.txt"), "x");
}

TEST_F(AgentToolsTest, WriteFileArgumentErrorsNameTheField) {
  EXPECT_NE(Fails("write_file", {{"path", "a.txt"}}).find("'content'"), std::string::npos);
  EXPECT_NE(Fails("write_file", {{"content", "x"}}).find("'path'"), std::string::npos);
  EXPECT_NE(Fails("write_file", {{"path", 5}, {"content", "x"}}).find("'path'"), std::string::npos);
  EXPECT_NE(
      Fails("write_file", {{"path", "a.txt"}, {"content", json::array{"x"}}}).find("'content'"),
      std::string::npos);
  EXPECT_NE(Fails("write_file", {{"path", "a.txt"}, {"content", nullptr}}).find("'content'"),
            std::string::npos);
  EXPECT_NE(Fails("write_file", {{"path", true}, {"content", "x"}}).find("'path'"),
            std::string::npos);
  EXPECT_EQ(NodeCount(), 0u);
}

TEST_F(AgentToolsTest, ExtraArgumentsAreIgnored) {
  Ok("write_file", {{"path", "a.txt"}, {"content", "x"}, {"mode", 0644}, {"encoding", "utf8"}});
  EXPECT_EQ(Read("a.txt"), "x");
}

TEST_F(AgentToolsTest, ReadFileErrors) {
  Ok("create_folder", {{"path", "dir"}});
  EXPECT_NE(Fails("read_file", {{"path", "missing.txt"}}).find("missing.txt"), std::string::npos);
  EXPECT_NE(Fails("read_file", {{"path", "dir"}}).find("folder"), std::string::npos);
  EXPECT_NE(Fails("read_file", {{"path", "dir/missing"}}).find("not found"), std::string::npos);
  EXPECT_NE(Fails("read_file", json::object{}).find("'path'"), std::string::npos);
  EXPECT_NE(Fails("read_file", {{"path", json::object{}}}).find("'path'"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Hostile input

TEST_F(AgentToolsTest, HostilePathsAreRejectedByEveryTool) {
  Write("ok/x.txt", "x");
  const std::size_t nodes = NodeCount();
  const Millis updated = ProjectUpdatedAt();
  const std::vector<std::string> bad = {
      "../x",  "/etc/passwd", "a/./b", "a/../b", "a//b", ".",    "..",
      "ok/..", "a/",          "./a",   "",       "a\\b", "a\tb", std::string("a\0b", 3),
      "\x01",  "a/\x7f",      "\xff",  "ok/\xc3"};
  for (const auto& path : bad) {
    SCOPED_TRACE(testing::Message() << "path " << testing::PrintToString(path));
    // Build the JSON by hand: invalid UTF-8 must reach the parser, not the serializer.
    std::string quoted = json::serialize(json::string(path));
    if (path == "\xff" || path == "ok/\xc3") quoted = "\"" + path + "\"";
    Fails("write_file", R"({"content":"x","path":)" + quoted + "}");
    Fails("read_file", R"({"path":)" + quoted + "}");
    Fails("delete_file", R"({"path":)" + quoted + "}");
    Fails("create_folder", R"({"path":)" + quoted + "}");
    Fails("rename_file", R"({"newName":"y","path":)" + quoted + "}");
    if (!path.empty()) Fails("list_files", R"({"path":)" + quoted + "}");
  }
  EXPECT_EQ(NodeCount(), nodes);
  EXPECT_EQ(ProjectUpdatedAt(), updated);
  EXPECT_EQ(Read("ok/x.txt"), "x");
  EXPECT_FALSE(std::filesystem::exists("/x.txt"));
}

TEST_F(AgentToolsTest, PathRuleErrorsExplainTheRule) {
  EXPECT_NE(Fails("read_file", {{"path", "../x"}}).find("Invalid path"), std::string::npos);
  EXPECT_NE(Fails("read_file", {{"path", "/etc/passwd"}}).find("absolute"), std::string::npos);
  EXPECT_NE(Fails("read_file", {{"path", std::string("a\0b", 3)}}).find("control"),
            std::string::npos);
}

TEST_F(AgentToolsTest, BadArgumentsGiveErrorResults) {
  EXPECT_NE(Fails("read_file", "{\"path\":").find("JSON"), std::string::npos);
  EXPECT_NE(Fails("read_file", "not json").find("JSON"), std::string::npos);
  EXPECT_NE(Fails("read_file", "{\"path\":\"a\"} trailing").find("JSON"), std::string::npos);
  for (std::string_view args : {"[]", "5", "\"a.txt\"", "null", "true", "[{\"path\":\"a\"}]"}) {
    EXPECT_NE(Fails("read_file", args).find("object"), std::string::npos) << args;
  }
  std::string deep = std::string(100, '[') + std::string(100, ']');
  Fails("read_file", "{\"path\":" + deep + "}");
  std::string deep_obj;
  for (int i = 0; i < 1000; ++i) deep_obj += "{\"a\":";
  deep_obj += "1" + std::string(1000, '}');
  EXPECT_NE(Fails("get_project_structure", deep_obj).find("JSON"), std::string::npos);
}

TEST_F(AgentToolsTest, EmptyArgumentsMeanNoArguments) {
  Write("a.txt", "x");
  EXPECT_EQ(Run("get_project_structure", "")["success"], true);
  EXPECT_EQ(Run("get_project_structure", " \n")["success"], true);
  EXPECT_EQ(Run("list_files", "")["success"], true);
  EXPECT_NE(Fails("read_file", "").find("'path'"), std::string::npos);
}

TEST_F(AgentToolsTest, UnknownToolsListTheAvailableOnes) {
  std::string err = Fails("run_shell", R"({"cmd":"rm -rf /"})");
  EXPECT_NE(err.find("run_shell"), std::string::npos);
  EXPECT_NE(err.find("write_file"), std::string::npos);
  Fails("", "{}");
  Fails("READ_FILE", R"({"path":"a"})");
  // Unprintable or invalid names are not echoed, so the result stays valid JSON text.
  std::string weird = Fails(std::string("x\xff\x01", 3), "{}");
  EXPECT_EQ(weird.find('\xff'), std::string::npos);
  EXPECT_NO_THROW(json::parse(json::serialize(Run(std::string(1000, 'x'), "{}"))));
}

TEST_F(AgentToolsTest, UnknownProjectIsAnError) {
  json::object r = ExecuteTool(*repo_, NewId(Table::kProject), "write_file",
                               R"({"path":"a.txt","content":"x"})", 2000);
  EXPECT_EQ(r["success"], false);
  EXPECT_EQ(r["error"], "Project not found");
  r = ExecuteTool(*repo_, "not an id", "get_project_structure", "{}", 2000);
  EXPECT_EQ(r["success"], false);
}

TEST_F(AgentToolsTest, ProjectsAreIsolated) {
  Project other{NewId(Table::kProject), kCreated, "o", "user_2", kCreated};
  repo_->InsertProject(other);
  ASSERT_EQ(ExecuteTool(*repo_, other.id, "write_file", R"({"path":"secret.txt","content":"s"})",
                        2000)["success"],
            true);
  Fails("read_file", {{"path", "secret.txt"}});
  EXPECT_TRUE(Structure().empty());
  EXPECT_TRUE(Search({{"pattern", "s"}}).empty());
}

// ---------------------------------------------------------------------------------------------
// list_files

TEST_F(AgentToolsTest, ListFilesShowsOneLevelFoldersFirst) {
  Write("b.txt", "");
  Write("A.txt", "");
  Write("z/inner/deep.txt", "");
  Write("a/x.txt", "");
  Ok("create_folder", {{"path", "m"}});
  const Strings root = {"a:folder", "m:folder", "z:folder", "A.txt:file", "b.txt:file"};
  EXPECT_EQ(List({}), root);
  EXPECT_EQ(List({{"path", ""}}), root);
  EXPECT_EQ(List({{"path", nullptr}}), root);
  EXPECT_EQ(List({{"path", "z"}}), (Strings{"inner:folder"}));
  EXPECT_EQ(List({{"path", "z/inner"}}), (Strings{"deep.txt:file"}));
  EXPECT_EQ(List({{"path", "m"}}), (Strings{}));
}

TEST_F(AgentToolsTest, ListFilesErrors) {
  Write("f.txt", "");
  EXPECT_NE(Fails("list_files", {{"path", "missing"}}).find("missing"), std::string::npos);
  EXPECT_NE(Fails("list_files", {{"path", "f.txt"}}).find("Not a folder"), std::string::npos);
  Fails("list_files", {{"path", "."}});
  Fails("list_files", {{"path", "/"}});
  EXPECT_NE(Fails("list_files", {{"path", 1}}).find("'path'"), std::string::npos);
}

TEST_F(AgentToolsTest, ListFilesOnAnEmptyProject) {
  EXPECT_EQ(List({}), (Strings{}));
}

// ---------------------------------------------------------------------------------------------
// delete_file

TEST_F(AgentToolsTest, DeleteFileRemovesAFile) {
  Write("a.txt", "x");
  Write("b.txt", "y");
  json::object r = Ok("delete_file", {{"path", "a.txt"}}, 7000);
  EXPECT_EQ(r, (json::object{{"success", true}}));
  EXPECT_EQ(Structure(), (Strings{"b.txt"}));
  EXPECT_EQ(ProjectUpdatedAt(), 7000);
  Fails("read_file", {{"path", "a.txt"}});
}

TEST_F(AgentToolsTest, DeleteFileRemovesAFolderRecursively) {
  Write("src/a.ts", "");
  Write("src/lib/b.ts", "");
  Write("src/lib/deeper/c.ts", "");
  Write("keep.ts", "");
  Ok("delete_file", {{"path", "src"}});
  EXPECT_EQ(Structure(), (Strings{"keep.ts"}));
  EXPECT_EQ(NodeCount(), 1u);
  EXPECT_EQ(List({}), (Strings{"keep.ts:file"}));
}

TEST_F(AgentToolsTest, DeleteFileErrors) {
  Write("a.txt", "x");
  const Millis updated = ProjectUpdatedAt();
  EXPECT_NE(Fails("delete_file", {{"path", "missing"}}).find("not found"), std::string::npos);
  Fails("delete_file", {{"path", "a.txt/b"}});
  Fails("delete_file", json::object{});
  EXPECT_EQ(ProjectUpdatedAt(), updated);
  EXPECT_EQ(NodeCount(), 1u);
}

// ---------------------------------------------------------------------------------------------
// rename_file

TEST_F(AgentToolsTest, RenameFileKeepsIdAndContent) {
  json::object w = Ok("write_file", {{"path", "src/old.ts"}, {"content", "code"}});
  json::object r = Ok("rename_file", {{"path", "src/old.ts"}, {"newName", "new.ts"}}, 8000);
  EXPECT_EQ(r["fileId"], w["fileId"]);
  EXPECT_EQ(Read("src/new.ts"), "code");
  Fails("read_file", {{"path", "src/old.ts"}});
  EXPECT_EQ(ProjectUpdatedAt(), 8000);
  EXPECT_EQ(repo_->GetFile(std::string(r["fileId"].as_string()))->updated_at, 8000);
}

TEST_F(AgentToolsTest, RenameFolderMovesItsContents) {
  Write("old/a/b.txt", "b");
  Ok("rename_file", {{"path", "old"}, {"newName", "new"}});
  EXPECT_EQ(Structure(), (Strings{"new/a/b.txt"}));
  EXPECT_EQ(Read("new/a/b.txt"), "b");
}

TEST_F(AgentToolsTest, RenameToTheSameNameChangesNothing) {
  json::object w = Ok("write_file", {{"path", "a.txt"}, {"content", "x"}}, 2000);
  json::object r = Ok("rename_file", {{"path", "a.txt"}, {"newName", "a.txt"}}, 9000);
  EXPECT_EQ(r["fileId"], w["fileId"]);
  EXPECT_EQ(ProjectUpdatedAt(), 2000);
}

TEST_F(AgentToolsTest, RenameFileErrors) {
  Write("a.txt", "a");
  Write("b.txt", "b");
  Ok("create_folder", {{"path", "dir"}});
  EXPECT_NE(Fails("rename_file", {{"path", "a.txt"}, {"newName", "b.txt"}}).find("already exists"),
            std::string::npos);
  // A file and a folder may not share a path either.
  Fails("rename_file", {{"path", "a.txt"}, {"newName", "dir"}});
  Fails("rename_file", {{"path", "dir"}, {"newName", "a.txt"}});
  Fails("rename_file", {{"path", "missing"}, {"newName", "c.txt"}});
  for (const std::string& name :
       std::vector<std::string>{"x/y", "..", ".", "", "a\\b", std::string("a\0", 2), "/c"}) {
    Fails("rename_file", {{"path", "a.txt"}, {"newName", name}});
  }
  EXPECT_NE(Fails("rename_file", {{"path", "a.txt"}}).find("'newName'"), std::string::npos);
  EXPECT_NE(Fails("rename_file", {{"path", "a.txt"}, {"newName", 3}}).find("'newName'"),
            std::string::npos);
  EXPECT_EQ(Read("a.txt"), "a");
  EXPECT_EQ(Read("b.txt"), "b");
  EXPECT_EQ(Structure(), (Strings{"a.txt", "b.txt"}));
}

// ---------------------------------------------------------------------------------------------
// create_folder

TEST_F(AgentToolsTest, CreateFolderCreatesParents) {
  json::object r = Ok("create_folder", {{"path", "a/b/c"}}, 4000);
  EXPECT_TRUE(IsValidId(r["fileId"].as_string(), Table::kFile));
  EXPECT_EQ(List({{"path", "a/b"}}), (Strings{"c:folder"}));
  EXPECT_EQ(ProjectUpdatedAt(), 4000);
  EXPECT_TRUE(Structure().empty());  // folders only
}

TEST_F(AgentToolsTest, CreateFolderErrors) {
  Write("f.txt", "");
  Ok("create_folder", {{"path", "dir"}});
  EXPECT_NE(Fails("create_folder", {{"path", "dir"}}).find("already exists"), std::string::npos);
  Fails("create_folder", {{"path", "f.txt"}});
  Fails("create_folder", {{"path", "f.txt/sub"}});
  Fails("create_folder", {{"path", json::array{}}});
}

// ---------------------------------------------------------------------------------------------
// get_project_structure and ProjectSummary

TEST_F(AgentToolsTest, ProjectStructureListsFilesSorted) {
  EXPECT_TRUE(Structure().empty());
  Write("src/z.ts", "");
  Write("README.md", "");
  Write("src/a/b.ts", "");
  Ok("create_folder", {{"path", "empty"}});
  EXPECT_EQ(Structure(), (Strings{"README.md", "src/a/b.ts", "src/z.ts"}));
}

TEST_F(AgentToolsTest, ProjectSummaryCapsThePaths) {
  EXPECT_EQ(ProjectSummary(*repo_, project_.id), "The project has no files yet.");
  Write("b.txt", "");
  Write("a/c.txt", "");
  Write("d.txt", "");
  EXPECT_EQ(ProjectSummary(*repo_, project_.id), "Project files (3):\na/c.txt\nb.txt\nd.txt");
  EXPECT_EQ(ProjectSummary(*repo_, project_.id, 2),
            "Project files (3):\na/c.txt\nb.txt\n... and 1 more");
  EXPECT_EQ(ProjectSummary(*repo_, project_.id, 0), "Project files (3):\n... and 3 more");
}

// ---------------------------------------------------------------------------------------------
// search_files

TEST_F(AgentToolsTest, SearchFindsLinesOneBased) {
  Write("src/app.ts", "import x\n  function init() {\n}\r\nfunction   init2()\n");
  Write("notes.md", "nothing here");
  EXPECT_EQ(Search({{"pattern", R"(function\s+init)"}}),
            (Strings{"src/app.ts:2:function init() {", "src/app.ts:4:function   init2()"}));
  json::object r = Ok("search_files", {{"pattern", "zzz"}});
  EXPECT_EQ(r, (json::object{{"success", true}, {"matches", json::array{}}}));
}

TEST_F(AgentToolsTest, SearchIsCaseInsensitiveByDefault) {
  Write("a.txt", "Hello\nhello\nHELLO\n");
  EXPECT_EQ(Search({{"pattern", "hello"}}).size(), 3u);
  EXPECT_EQ(Search({{"pattern", "hello"}, {"caseSensitive", false}}).size(), 3u);
  EXPECT_EQ(Search({{"pattern", "hello"}, {"caseSensitive", true}}), (Strings{"a.txt:2:hello"}));
  EXPECT_EQ(Search({{"pattern", "HELLO"}, {"caseSensitive", true}}), (Strings{"a.txt:3:HELLO"}));
  EXPECT_EQ(Search({{"pattern", "hello"}, {"caseSensitive", nullptr}}).size(), 3u);
}

TEST_F(AgentToolsTest, SearchStopsAtFiftyMatches) {
  std::string many;
  for (int i = 0; i < 80; ++i) many += "match " + std::to_string(i) + "\n";
  Write("a.txt", many);
  Write("b.txt", "match\n");
  json::object r = Ok("search_files", {{"pattern", "^match"}});
  const auto& matches = r["matches"].as_array();
  ASSERT_EQ(matches.size(), 50u);
  EXPECT_EQ(matches.back().as_object().at("line"), 50);
  EXPECT_EQ(matches.back().as_object().at("text"), "match 49");
  EXPECT_EQ(r["truncated"], true);
  // Exactly 50 is not truncated.
  Ok("delete_file", {{"path", "b.txt"}});
  Write("a.txt", many.substr(0, many.find("match 50")));
  r = Ok("search_files", {{"pattern", "^match"}});
  EXPECT_EQ(r["matches"].as_array().size(), 50u);
  EXPECT_FALSE(r.contains("truncated"));
}

TEST_F(AgentToolsTest, SearchFiltersByGlob) {
  Write("README.md", "todo");
  Write("docs/guide.md", "todo");
  Write("src/a.ts", "todo");
  Write("src/lib/b.ts", "todo");
  Write("src/lib/c.tsx", "todo");
  Write("test/a.ts", "todo");
  auto paths = [&](const std::string& glob) {
    Strings out;
    for (const auto& m : Search({{"pattern", "todo"}, {"glob", glob}})) {
      out.push_back(m.substr(0, m.find(':')));
    }
    return out;
  };
  EXPECT_EQ(paths("*.md"), (Strings{"README.md", "docs/guide.md"}));
  EXPECT_EQ(paths("src/**/*.ts"), (Strings{"src/a.ts", "src/lib/b.ts"}));
  EXPECT_EQ(paths("src/*.ts"), (Strings{"src/a.ts"}));
  EXPECT_EQ(paths("**/*.{ts,tsx}"),
            (Strings{"src/a.ts", "src/lib/b.ts", "src/lib/c.tsx", "test/a.ts"}));
  EXPECT_EQ(paths("{src,test}/a.ts"), (Strings{"src/a.ts", "test/a.ts"}));
  EXPECT_EQ(paths("src/lib"), (Strings{"src/lib/b.ts", "src/lib/c.tsx"}));
  EXPECT_EQ(paths("/README.md"), (Strings{"README.md"}));
  EXPECT_EQ(paths("?.ts"), (Strings{"src/a.ts", "src/lib/b.ts", "test/a.ts"}));
  EXPECT_EQ(paths("*.py"), (Strings{}));
  EXPECT_EQ(paths(""), (Strings{"README.md", "docs/guide.md", "src/a.ts", "src/lib/b.ts",
                                "src/lib/c.tsx", "test/a.ts"}));
  EXPECT_NE(Fails("search_files", {{"pattern", "todo"}, {"glob", "{a,b"}}).find("glob"),
            std::string::npos);
  EXPECT_NE(Fails("search_files", {{"pattern", "todo"}, {"glob", 7}}).find("'glob'"),
            std::string::npos);
}

TEST_F(AgentToolsTest, SearchRegexErrors) {
  Write("a.txt", "x");
  for (std::string bad : {"(", "[a-", "a{2,1}", "*x", "(?<name", "\\"}) {
    EXPECT_NE(Fails("search_files", {{"pattern", bad}}).find("regular expression"),
              std::string::npos)
        << bad;
  }
  EXPECT_NE(Fails("search_files", {{"pattern", "(a)\\1"}}).find("back-references"),
            std::string::npos);
  // libstdc++ would overflow reading this number (fuzz_paths_tools); refused before it.
  EXPECT_NE(Fails("search_files", {{"pattern", "x\\6883803411680000116"}}).find("back-references"),
            std::string::npos);
  EXPECT_EQ(Run("search_files", json::serialize(json::object{{"pattern", "a\\\\1"}}))["success"],
            true)
      << "an escaped backslash, then a 1, is no back-reference";
  EXPECT_NE(Fails("search_files", {{"pattern", ""}}).find("'pattern'"), std::string::npos);
  EXPECT_NE(Fails("search_files", {{"pattern", std::string(501, 'a')}}).find("too long"),
            std::string::npos);
  EXPECT_NE(Fails("search_files", {{"pattern", "((a{100}){100}){100}"}}).find("complex"),
            std::string::npos);
  EXPECT_NE(Fails("search_files", {{"pattern", "a{99999999999999999999}"}}).find("complex"),
            std::string::npos);
  EXPECT_NE(Fails("search_files", json::object{}).find("'pattern'"), std::string::npos);
  EXPECT_NE(Fails("search_files", {{"pattern", 1}}).find("'pattern'"), std::string::npos);
  EXPECT_NE(
      Fails("search_files", {{"pattern", "x"}, {"caseSensitive", "yes"}}).find("'caseSensitive'"),
      std::string::npos);
  EXPECT_NE(Fails("search_files", {{"pattern", "x"}, {"caseSensitive", 1}}).find("'caseSensitive'"),
            std::string::npos);
  EXPECT_EQ(Search({{"pattern", "\\d{4}-\\d{2}"}}), (Strings{}));
}

TEST_F(AgentToolsTest, SearchSkipsHugeLinesAndFiles) {
  std::string long_line(kMaxSearchLineBytes + 1, 'x');
  Write("long.txt", "needle " + long_line + "\nneedle short\n");
  std::string big(kMaxSearchFileBytes + 1, 'y');
  Write("big.txt", "needle\n" + big);
  EXPECT_EQ(Search({{"pattern", "needle"}}), (Strings{"long.txt:2:needle short"}));
}

TEST_F(AgentToolsTest, SearchTrimsAndCutsTheText) {
  std::string line = "\t  needle " + std::string(150, 'a') + "é" + std::string(150, 'b') + "  ";
  Write("a.txt", line);
  json::object r = Ok("search_files", {{"pattern", "needle"}});
  std::string text(r["matches"].as_array().at(0).as_object().at("text").as_string());
  EXPECT_EQ(text.rfind("needle", 0), 0u);
  EXPECT_EQ(text.substr(text.size() - 3), "...");
  // 200 code points: 196 ASCII + 'é' (2 bytes) + "..." = 197 + 3.
  EXPECT_EQ(text.size(), 201u);
  EXPECT_NO_THROW(json::parse(json::serialize(r)));
}

TEST_F(AgentToolsTest, SearchSurvivesCatastrophicPatterns) {
  std::string line(kMaxSearchLineBytes, 'a');
  std::string content;
  for (int i = 0; i < 3; ++i) content += line + "\n";
  Write("a.txt", content);
  auto start = std::chrono::steady_clock::now();
  json::object r = Ok("search_files", {{"pattern", "(a*)*b"}});
  json::object r2 = Ok("search_files", {{"pattern", "(a|aa)+$x"}});
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r["matches"].as_array().empty());
  EXPECT_TRUE(r2["matches"].as_array().empty());
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

// Lines without the pattern's required literal are skipped before the regex runs; the
// shortcut must never hide a real match.
TEST_F(AgentToolsTest, SearchShortcutNeverHidesMatches) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[[:alpha:]x]foo", "afoo"},
      {"\\x41BC", "ABC"},
      {"\\tfoo", "x\tfoo"},
      {"a\\u0042c", "aBc"},
      {"ab?c", "ac"},
      {"a{2}b", "aab"},
      {"colou?r", "color"},
      {"foo|bar", "bar"},
      {"(?:x|y)z", "yz"},
      {"HELLO", "hello"},
      {"\\.js", "a.js"},
      {"(a)b", "ab"},
      {"ab*c", "ac"},
      {"ab+c", "abbc"},
      {"x{1,}y", "xxy"},
      {"\\d+px", "12px"},
      {"[(]x", "(x"},
      {"\\0?a", "a"},
      {"a\\b", "a b"},
      {"(?=ab)abc", "zabc"},
      {"[\\]]x", "]x"},
      {"Foo\\(", "call foo(1)"},
      {"é", "café"},
      {"a.c", "abc"},
  };
  for (const auto& [pattern, line] : cases) {
    Write("t.txt", "nothing\n" + line + "\nnothing");
    EXPECT_EQ(Search({{"pattern", pattern}}), (Strings{"t.txt:2:" + line})) << pattern;
  }
  Write("t.txt", "Foo\nfoo");
  EXPECT_EQ(Search({{"pattern", "Foo"}, {"caseSensitive", true}}), (Strings{"t.txt:1:Foo"}));
  EXPECT_EQ(Search({{"pattern", "É"}}), (Strings{}));  // std::regex folds ASCII only
}

TEST_F(AgentToolsTest, SearchAnchorsApplyPerLine) {
  Write("a.txt", "foo bar\nbar foo\n");
  EXPECT_EQ(Search({{"pattern", "^bar"}}), (Strings{"a.txt:2:bar foo"}));
  EXPECT_EQ(Search({{"pattern", "bar$"}}), (Strings{"a.txt:1:foo bar"}));
  EXPECT_EQ(Search({{"pattern", "^$"}}), (Strings{}));  // no phantom line after the last '\n'
}

}  // namespace
}  // namespace polaris::agent
