#pragma once
// The tools the assistant may call on its project's files (their schemas: ToolDefinitions
// below). They act on the stored file tree only, never on the host file system.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "domain/types.h"
#include "store/repo.h"

namespace polaris::agent {

// Limits of search_files.
constexpr std::size_t kMaxSearchMatches = 50;
constexpr std::size_t kMaxSearchPatternBytes = 500;
constexpr std::size_t kMaxSearchLineBytes = 2000;     // longer lines are skipped
constexpr std::size_t kMaxSearchFileBytes = 1 << 20;  // larger files are skipped
constexpr std::size_t kMaxSearchTextChars = 200;      // a match's text is cut to this

// The OpenAI function-tool definitions offered to the model:
// [{type:"function", function:{name, description, parameters (JSON schema)}}].
boost::json::array ToolDefinitions();

// Runs one tool call inside the caller's store transaction. Bad input never throws: bad JSON
// arguments, wrong types, unknown tools, hostile paths and missing files all give
// {"success": false, "error": "<sentence>"}. A failing store does throw (StoreError): the
// write job then fails whole, and the call is not recorded as run.
boost::json::object ExecuteTool(Repo& repo, const std::string& project_id, std::string_view name,
                                std::string_view arguments_json, Millis now);

// True for the tools that only read the project (read_file, list_files, search_files,
// get_project_structure). The agent runs them on a store reader, so a long search never holds
// the single writer; only the short write that records the result goes through it.
bool IsReadOnlyTool(std::string_view name);

// A short summary of the project's files for the system prompt: up to max_paths file paths
// (sorted), then "... and N more".
std::string ProjectSummary(Repo& repo, const std::string& project_id, std::size_t max_paths = 200);

}  // namespace polaris::agent
