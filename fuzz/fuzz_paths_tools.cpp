// Path rules (SplitPath, ValidateName, NormalizeName) and the assistant's file tools
// (agent::ExecuteTool: write/read/list/delete/rename/create_folder/search_files/
// get_project_structure) on a real SQLite store (in memory, with the real migrations).
//
// Input: lines. A line "name args-json" runs that tool call on the project (an unknown name
// is refused by ExecuteTool itself); every line is also checked as a path. All calls of one
// input run in one transaction that is rolled back, so inputs do not leak into each other.
// Checked besides sanitizers: a path SplitPath accepts splits into names that are valid and
// already normalized, and joining them splits back to the same names; NormalizeName is
// idempotent; ExecuteTool answers an object with a boolean "success" and never throws on
// bad input (it says so).
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "agent/tools.h"
#include "domain/ids.h"
#include "domain/path.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_repo.h"

using namespace polaris;

namespace {

constexpr Millis kNow = 5000;
constexpr std::size_t kMaxCalls = 32;

[[noreturn]] void Fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "fuzz: %s: '%.*s'\n", what, static_cast<int>(input.size()), input.data());
  std::abort();
}

void CheckPath(std::string_view path) {
  auto parts = SplitPath(path);
  if (!parts) return;
  std::string joined;
  for (const auto& p : *parts) {
    if (!ValidateName(p)) Fail("SplitPath returned an invalid name", p);
    auto again = NormalizeName(p);
    if (!again || *again != p) Fail("SplitPath returned a name that is not normalized", p);
    if (!joined.empty()) joined += '/';
    joined += p;
  }
  auto resplit = SplitPath(joined);
  if (!resplit || *resplit != *parts) Fail("a normalized path does not split back", path);
}

struct Fixture {
  Fixture() : db(":memory:", false), repo((sqlite::Migrate(db), db)) {
    project = Project{NewId(Table::kProject), 1000, "p", "user_1", 1000};
    repo.InsertProject(project);
    // A small tree the tool calls can find.
    db.Exec("SAVEPOINT seed");
    for (const char* call :
         {R"({"path":"src/index.ts","content":"export const a = 1;\nconsole.log(a)\n"})",
          R"({"path":"src/lib/util.ts","content":"export function f() { return 42 }\n"})",
          R"({"path":"README.md","content":"# Fuzz\n"})"}) {
      agent::ExecuteTool(repo, project.id, "write_file", call, 1000);
    }
    db.Exec("RELEASE seed");
  }
  sqlite::Database db;
  sqlite::SqliteRepo repo;
  Project project;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture* fx = new Fixture();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  fx->db.Exec("BEGIN");
  std::size_t calls = 0;
  while (!input.empty() && calls < kMaxCalls) {
    const std::size_t nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    CheckPath(line);
    if (auto name = NormalizeName(line)) {
      auto twice = NormalizeName(*name);
      if (!twice || *twice != *name) Fail("NormalizeName is not idempotent", line);
    }
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    ++calls;
    const std::string_view tool = line.substr(0, space);
    const std::string_view args = line.substr(space + 1);
    boost::json::object result = agent::ExecuteTool(fx->repo, fx->project.id, tool, args, kNow);
    const auto* ok = result.if_contains("success");
    if (!ok || !ok->is_bool()) Fail("a tool answered without a boolean success", line);
    if (!ok->get_bool()) {
      const auto* error = result.if_contains("error");
      if (!error || !error->is_string() || error->get_string().empty()) {
        Fail("a failed tool call has no error sentence", line);
      }
    }
    (void)agent::IsReadOnlyTool(tool);
  }
  (void)agent::ProjectSummary(fx->repo, fx->project.id, 20);
  fx->db.Exec("ROLLBACK");
  return 0;
}
