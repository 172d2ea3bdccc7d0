#include "agent/tools.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <optional>
// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> when sanitizers are on (clang
// has no such warning, and would warn about the unknown name).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <vector>

#include "agent/glob.h"
#include "domain/path.h"
#include "domain/result.h"
#include "domain/text.h"
#include "json/json_input.h"
#include "services/files.h"

namespace polaris::agent {
namespace {

namespace json = boost::json;

// Above this estimated automaton size a regex is refused (see EstimateRegexCost).
constexpr std::size_t kMaxRegexCost = 2000;
// The search runs on the store thread inside a transaction, so it must stay short.
constexpr auto kSearchBudget = std::chrono::seconds(2);

// ---------------------------------------------------------------------------------------------
// Arguments

struct Call {
  Repo& repo;
  const std::string& project_id;
  const json::object& args;
  Millis now;
};

Result<json::object> ParseArguments(std::string_view text) {
  // Some models send "" for a tool without parameters.
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
  auto v = json_input::Parse(text);
  if (!v) return Error::BadRequest("The tool arguments are not valid JSON");
  if (!v->is_object()) return Error::BadRequest("The tool arguments must be a JSON object");
  return std::move(v->as_object());
}

const json::value* Field(const json::object& args, std::string_view key) {
  return json_input::Member(args, key);
}

Error WrongType(std::string_view key, std::string_view type) {
  return Error::BadRequest("Argument '" + std::string(key) + "' must be " + std::string(type));
}

Result<std::optional<std::string>> OptionalString(const json::object& args, std::string_view key) {
  const json::value* v = Field(args, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(key, "a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

Result<std::string> RequiredString(const json::object& args, std::string_view key) {
  auto v = OptionalString(args, key);
  if (!v) return v.error();
  if (!*v) return Error::BadRequest("Missing required argument '" + std::string(key) + "'");
  return std::move(**v);
}

Result<std::optional<bool>> OptionalBool(const json::object& args, std::string_view key) {
  const json::value* v = Field(args, key);
  if (!v) return std::optional<bool>();
  if (!v->is_bool()) return WrongType(key, "true or false");
  return std::optional<bool>(v->get_bool());
}

json::object Success() {
  return json::object{{"success", true}};
}

json::object Failure(std::string_view message) {
  return json::object{{"success", false}, {"error", message}};
}

// ---------------------------------------------------------------------------------------------
// File tools

Result<json::object> WriteFile(const Call& c) {
  auto path = RequiredString(c.args, "path");
  if (!path) return path.error();
  auto content = RequiredString(c.args, "content");
  if (!content) return content.error();
  auto file = services::WriteFileAtPath(c.repo, c.project_id, *path, *content, c.now);
  if (!file) return file.error();
  json::object out = Success();
  out["fileId"] = file->id;
  return out;
}

Result<json::object> ReadFile(const Call& c) {
  auto path = RequiredString(c.args, "path");
  if (!path) return path.error();
  auto file = services::ReadFileAtPath(c.repo, c.project_id, *path);
  if (!file) {
    // Tell the model why, so it does not retry the same call.
    auto parts = SplitPath(*path);
    auto node = parts ? services::ResolvePath(c.repo, c.project_id, *parts) : std::nullopt;
    if (node && node->type == FileType::kFolder) {
      return Error::BadRequest("'" + *path + "' is a folder, not a file; use list_files on it");
    }
    return file.error();
  }
  json::object out = Success();
  out["content"] = file->content.value_or("");
  return out;
}

Result<json::object> ListFiles(const Call& c) {
  auto path = OptionalString(c.args, "path");
  if (!path) return path.error();
  auto children = services::ListFolderAtPath(c.repo, c.project_id, path->value_or(""));
  if (!children) return children.error();
  json::array entries;
  for (const auto& f : *children) {
    entries.push_back(json::object{{"name", f.name}, {"type", ToString(f.type)}});
  }
  json::object out = Success();
  out["entries"] = std::move(entries);
  return out;
}

Result<json::object> DeleteFile(const Call& c) {
  auto path = RequiredString(c.args, "path");
  if (!path) return path.error();
  if (auto st = services::DeleteAtPath(c.repo, c.project_id, *path, c.now); !st) return st.error();
  return Success();
}

Result<json::object> RenameFile(const Call& c) {
  auto path = RequiredString(c.args, "path");
  if (!path) return path.error();
  auto new_name = RequiredString(c.args, "newName");
  if (!new_name) return new_name.error();
  auto file = services::RenameAtPath(c.repo, c.project_id, *path, *new_name, c.now);
  if (!file) return file.error();
  json::object out = Success();
  out["fileId"] = file->id;
  return out;
}

Result<json::object> CreateFolder(const Call& c) {
  auto path = RequiredString(c.args, "path");
  if (!path) return path.error();
  auto folder = services::CreateFolderAtPath(c.repo, c.project_id, *path, c.now);
  if (!folder) return folder.error();
  json::object out = Success();
  out["fileId"] = folder->id;
  return out;
}

Result<json::object> GetProjectStructure(const Call& c) {
  json::array paths;
  for (auto& p : services::ListAllFilePaths(c.repo, c.project_id)) paths.emplace_back(p);
  json::object out = Success();
  out["paths"] = std::move(paths);
  return out;
}

// ---------------------------------------------------------------------------------------------
// search_files

// End of the [class] starting at p[i] (the index of its ']', or the last index if unclosed).
std::size_t ClassEnd(std::string_view p, std::size_t i) {
  std::size_t j = i + 1;
  if (j < p.size() && p[j] == '^') ++j;
  if (j < p.size() && p[j] == ']') ++j;
  while (j < p.size() && p[j] != ']') {
    char kind = j + 1 < p.size() && p[j] == '[' ? p[j + 1] : 0;
    std::size_t close = kind == ':' || kind == '.' || kind == '='
                            ? p.find(std::string{kind, ']'}, j + 2)  // [:alpha:] and kin
                            : std::string_view::npos;
    j = close != std::string_view::npos ? close + 2 : j + (p[j] == '\\' ? 2 : 1);
  }
  return std::min(j, p.size() - 1);
}

// The count of a {n}, {n,} or {n,m} quantifier at p[i]; moves i to its '}'.
std::optional<std::size_t> RepeatCount(std::string_view p, std::size_t& i) {
  constexpr std::size_t kSaturate = 1'000'000;
  auto number = [&](std::size_t& j) {
    std::optional<std::size_t> n;
    for (; j < p.size() && p[j] >= '0' && p[j] <= '9'; ++j) {
      n = std::min(kSaturate, n.value_or(0) * 10 + static_cast<std::size_t>(p[j] - '0'));
    }
    return n;
  };
  std::size_t j = i + 1;
  auto low = number(j);
  if (!low) return std::nullopt;
  std::size_t count = *low;
  if (j < p.size() && p[j] == ',') {
    ++j;
    auto high = number(j);
    count = high ? std::max(*low, *high) : *low + 1;
  }
  if (j >= p.size() || p[j] != '}') return std::nullopt;
  i = j;
  return count;
}

// A rough size of the compiled automaton. libstdc++ copies the operand of {n,m} up to m times,
// so nested counted repeats multiply, and matching time grows with the automaton.
std::size_t EstimateRegexCost(std::string_view p) {
  constexpr std::size_t kCap = 1'000'000;
  std::vector<std::size_t> open{0};  // cost so far of each open group
  std::size_t last = 0;              // cost of the latest atom: a quantifier's operand
  auto add = [&](std::size_t n) { open.back() = std::min(kCap, open.back() + n); };
  for (std::size_t i = 0; i < p.size(); ++i) {
    char ch = p[i];
    std::optional<std::size_t> count;
    if (ch == '\\') {
      ++i;
      last = 1;
    } else if (ch == '[') {
      i = ClassEnd(p, i);
      last = 1;
    } else if (ch == '(') {
      open.push_back(0);
      last = 0;
      continue;
    } else if (ch == ')' && open.size() > 1) {
      last = open.back() + 1;
      open.pop_back();
    } else if (ch == '{' && (count = RepeatCount(p, i))) {
      std::size_t extra = std::min(kCap, last * *count);
      add(extra);
      last = std::min(kCap, last + extra);
      continue;
    } else {
      last = 1;
    }
    add(last);
  }
  std::size_t total = 0;
  for (std::size_t n : open) total = std::min(kCap, total + n);
  return total;
}

Result<std::regex> CompileSearchRegex(const std::string& pattern, bool case_sensitive) {
  if (pattern.empty()) return Error::BadRequest("Argument 'pattern' must not be empty");
  if (pattern.size() > kMaxSearchPatternBytes) {
    return Error::BadRequest("Argument 'pattern' is too long (at most " +
                             std::to_string(kMaxSearchPatternBytes) + " bytes)");
  }
  if (EstimateRegexCost(pattern) > kMaxRegexCost) {
    return Error::BadRequest("The regular expression is too complex; use smaller {n,m} counts");
  }
  // Refused before libstdc++ sees them: it reads a back-reference's number without a bound,
  // overflowing a long on \6883803411680000116 (found by fuzz_paths_tools).
  for (std::size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] != '\\') continue;
    if (pattern[i + 1] >= '1' && pattern[i + 1] <= '9') {
      return Error::BadRequest("Invalid regular expression: back-references are not supported");
    }
    ++i;  // the escaped character
  }
  auto flags = std::regex::ECMAScript;
#ifdef __GLIBCXX__
  // libstdc++'s breadth-first matcher: polynomial time instead of exponential backtracking
  // on patterns like (a*)*b. It refuses back-references.
  flags |= std::regex_constants::__polynomial;
#endif
  if (!case_sensitive) flags |= std::regex::icase;
  try {
    std::regex(pattern, flags);  // validates the pattern as written
    // The matcher retries a search from every start position, O(n^2) per line. A leading lazy
    // "anything" lets one anchored pass (match_continuous) try them all at once. '^' keeps its
    // meaning: it only holds at the start of the line.
    return std::regex("[\\s\\S]*?(?:" + pattern + ")", flags);
  } catch (const std::regex_error& e) {
    if (e.code() == std::regex_constants::error_complexity) {
      return Error::BadRequest("Invalid regular expression: back-references are not supported");
    }
    return Error::BadRequest(std::string("Invalid regular expression: ") + e.what());
  }
}

// The line as shown to the model: surrounding blanks removed, at most kMaxSearchTextChars
// code points (cut on a code point boundary so the JSON stays valid UTF-8).
std::string MatchText(std::string_view line) {
  auto first = line.find_first_not_of(" \t\r\v\f");
  if (first == std::string_view::npos) return "";
  line = line.substr(first, line.find_last_not_of(" \t\r\v\f") - first + 1);
  if (CountCodePoints(line) <= kMaxSearchTextChars) return std::string(line);
  std::size_t chars = 0, i = 0;
  for (; i < line.size(); ++i) {
    bool starts_char = (static_cast<unsigned char>(line[i]) & 0xC0) != 0x80;
    if (starts_char && ++chars > kMaxSearchTextChars - 3) break;
  }
  return std::string(line.substr(0, i)) + "...";
}

char AsciiLower(char ch) {
  return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
}

// A literal that every match must contain: the longest run of plain characters outside
// groups. Lines without it are skipped without running the (slow) regex. "" when there is
// none, e.g. with a top-level '|'. With icase only ASCII is kept, folded to lower case, as
// std::regex folds it.
std::string RequiredLiteral(std::string_view p, bool icase) {
  std::string best, run;
  int depth = 0;
  auto flush = [&] {
    if (run.size() > best.size()) best = run;
    run.clear();
  };
  for (std::size_t i = 0; i < p.size(); ++i) {
    char ch = p[i];
    if (ch == '\\' && i + 1 < p.size()) {
      auto escaped = static_cast<unsigned char>(p[++i]);
      bool literal = escaped < 0x80 && !std::isalnum(escaped);  // \. yes, \d \b \x41 no
      if (depth == 0 && literal) run += static_cast<char>(escaped);
      if (depth == 0 && !literal) flush();
      // The operand of \xHH, \uHHHH, \cX and \0 is not literal text either.
      std::size_t operand = escaped == 'x' ? 2 : escaped == 'u' ? 4 : escaped == 'c' ? 1 : 0;
      if (std::isdigit(escaped)) operand = p.find_first_not_of("0123456789", i + 1) - i - 1;
      i = std::min(i + operand, p.size() - 1);
    } else if (ch == '[') {
      i = ClassEnd(p, i);
      if (depth == 0) flush();
    } else if (ch == '(') {
      if (depth++ == 0) flush();
    } else if (ch == ')') {
      --depth;
    } else if (depth > 0) {
      continue;
    } else if (ch == '|') {
      return "";
    } else if (ch == '?' || ch == '*' || ch == '+' || ch == '{') {
      if (!run.empty()) run.pop_back();  // the quantified character is optional
      flush();
      std::size_t j = i;
      if (ch == '{' && RepeatCount(p, j)) i = j;
    } else if (ch == '.' || ch == '^' || ch == '$' ||
               (icase && static_cast<unsigned char>(ch) >= 0x80)) {
      flush();
    } else {
      run += ch;
    }
  }
  flush();
  if (icase) std::transform(best.begin(), best.end(), best.begin(), AsciiLower);
  return best;
}

class Searcher {
 public:
  Searcher(const std::regex& re, std::string literal, bool icase)
      : re_(re),
        literal_(std::move(literal)),
        icase_(icase),
        deadline_(std::chrono::steady_clock::now() + kSearchBudget) {}

  // False once the search must stop (enough matches, or out of time).
  bool ScanFile(const std::string& path, std::string_view content) {
    if (content.size() > kMaxSearchFileBytes) return true;
    std::string folded;
    std::string_view haystack = content;  // where the required literal is looked for
    if (icase_ && !literal_.empty()) {
      folded.resize(content.size());
      std::transform(content.begin(), content.end(), folded.begin(), AsciiLower);
      haystack = folded;
    }
    std::size_t hit = literal_.empty() ? 0 : haystack.find(literal_);
    std::size_t line_no = 0;
    for (std::size_t start = 0; start < content.size(); ++line_no) {
      std::size_t end = std::min(content.find('\n', start), content.size());
      std::string_view line = content.substr(start, end - start);
      if (!literal_.empty()) {
        if (hit != std::string_view::npos && hit < start) hit = haystack.find(literal_, start);
        if (hit == std::string_view::npos) return true;  // no later line can match
      }
      start = end + 1;
      if (!literal_.empty() && hit >= end) continue;
      if (!ScanLine(path, line_no + 1, line)) return false;
    }
    return true;
  }

  json::object Finish() && {
    json::object out = Success();
    out["matches"] = std::move(matches_);
    if (truncated_ || timed_out_) out["truncated"] = true;
    if (timed_out_) {
      out["note"] = "The search ran out of time; narrow it with a glob or a simpler pattern";
    } else if (truncated_) {
      out["note"] = "Only the first " + std::to_string(kMaxSearchMatches) +
                    " matches are shown; narrow the search with a glob or a more specific pattern";
    }
    return out;
  }

 private:
  bool ScanLine(const std::string& path, std::size_t line_no, std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxSearchLineBytes) return true;
    if (std::chrono::steady_clock::now() > deadline_) {
      timed_out_ = true;
      return false;
    }
    if (!std::regex_search(line.data(), line.data() + line.size(), re_,
                           std::regex_constants::match_continuous)) {
      return true;
    }
    if (matches_.size() == kMaxSearchMatches) {
      truncated_ = true;
      return false;
    }
    matches_.push_back(json::object{{"path", path}, {"line", line_no}, {"text", MatchText(line)}});
    return true;
  }

  const std::regex& re_;
  std::string literal_;
  bool icase_;
  std::chrono::steady_clock::time_point deadline_;
  json::array matches_;
  bool truncated_ = false;
  bool timed_out_ = false;
};

Result<json::object> SearchFiles(const Call& c) {
  auto pattern = RequiredString(c.args, "pattern");
  if (!pattern) return pattern.error();
  auto glob_text = OptionalString(c.args, "glob");
  if (!glob_text) return glob_text.error();
  auto case_sensitive = OptionalBool(c.args, "caseSensitive");
  if (!case_sensitive) return case_sensitive.error();

  const bool icase = !case_sensitive->value_or(false);
  auto re = CompileSearchRegex(*pattern, !icase);
  if (!re) return re.error();
  std::optional<Glob> glob;
  if (*glob_text && !(*glob_text)->empty()) {
    auto compiled = Glob::Compile(**glob_text);
    if (!compiled) return compiled.error();
    glob = std::move(*compiled);
  }
  Searcher searcher(*re, RequiredLiteral(*pattern, icase), icase);
  for (const auto& f : services::ListFilesWithPaths(c.repo, c.project_id, true)) {
    if (glob && !glob->Matches(f.path)) continue;
    if (!searcher.ScanFile(f.path, f.file.content.value_or(""))) break;
  }
  return std::move(searcher).Finish();
}

// ---------------------------------------------------------------------------------------------
// The table

using Handler = Result<json::object> (*)(const Call&);

struct ToolSpec {
  std::string_view name;
  std::string_view description;
  std::string_view parameters;  // JSON schema
  Handler run;
  bool read_only = false;  // runs on a store reader (see IsReadOnlyTool)
};

constexpr ToolSpec kTools[] = {
    {"write_file",
     "Create a file or replace its whole content. Missing parent folders are created. Always "
     "send the complete new content, never a diff or a placeholder like '...rest unchanged'.",
     R"json({"type":"object","properties":{
          "path":{"type":"string","description":"Path relative to the project root, e.g. src/app.ts"},
          "content":{"type":"string","description":"The complete file content"}},
        "required":["path","content"]})json",
     WriteFile},
    {"read_file", "Read the whole content of a file. Read a file before changing it.",
     R"json({"type":"object","properties":{
          "path":{"type":"string","description":"Path relative to the project root, e.g. src/app.ts"}},
        "required":["path"]})json",
     ReadFile, true},
    {"list_files",
     "List the files and folders directly inside a folder (not recursive), folders first. "
     "Omit path for the project root. Use get_project_structure to see every file at once.",
     R"json({"type":"object","properties":{
          "path":{"type":"string","description":"Folder path relative to the project root; omit for the root"}},
        "required":[]})json",
     ListFiles, true},
    {"delete_file",
     "Delete a file, or a folder together with everything inside it. This cannot be undone.",
     R"json({"type":"object","properties":{
          "path":{"type":"string","description":"Path of the file or folder to delete"}},
        "required":["path"]})json",
     DeleteFile},
    {"rename_file",
     "Rename a file or folder where it is. newName is a bare name without '/'; to move a file "
     "to another folder, write it at the new path and delete the old one.",
     R"json({"type":"object","properties":{
          "path":{"type":"string","description":"Current path of the file or folder"},
          "newName":{"type":"string","description":"The new name only, e.g. index.ts"}},
        "required":["path","newName"]})json",
     RenameFile},
    {"create_folder",
     "Create an empty folder (and any missing parents). Not needed before write_file, which "
     "creates folders itself.",
     R"json({"type":"object","properties":{
          "path":{"type":"string","description":"Folder path relative to the project root"}},
        "required":["path"]})json",
     CreateFolder},
    {"search_files",
     "Search file contents line by line with a regular expression (JavaScript syntax, no "
     "back-references). Returns at most 50 matches as {path, line, text}, line numbers "
     "starting at 1. Case-insensitive unless caseSensitive is true.",
     R"json({"type":"object","properties":{
          "pattern":{"type":"string","description":"Regular expression to look for in each line, e.g. function\\s+init"},
          "glob":{"type":"string","description":"Only search files whose path matches this gitignore-style glob: *.ts matches at any depth, src/**/*.tsx only under src, {a,b} gives alternatives, a folder path selects everything inside it"},
          "caseSensitive":{"type":"boolean","description":"Match case exactly (default false)"}},
        "required":["pattern"]})json",
     SearchFiles, true},
    {"get_project_structure",
     "List the path of every file in the project, sorted. A good first step to see what "
     "exists.",
     R"json({"type":"object","properties":{},"required":[]})json", GetProjectStructure, true},
};

const ToolSpec* FindTool(std::string_view name) {
  for (const auto& t : kTools) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace

bool IsReadOnlyTool(std::string_view name) {
  const ToolSpec* tool = FindTool(name);
  return tool && tool->read_only;
}

namespace {

std::string UnknownTool(std::string_view name) {
  std::string known;
  for (const auto& t : kTools) known += (known.empty() ? "" : ", ") + std::string(t.name);
  // The name comes from the model: only echo it when it is short, printable text.
  bool printable = name.size() <= 64 && IsValidUtf8(name) &&
                   std::none_of(name.begin(), name.end(),
                                [](char ch) { return static_cast<unsigned char>(ch) < 0x20; });
  std::string shown = printable ? " '" + std::string(name) + "'" : "";
  return "Unknown tool" + shown + "; the available tools are " + known;
}

}  // namespace

json::array ToolDefinitions() {
  json::array out;
  for (const auto& t : kTools) {
    out.push_back(
        json::object{{"type", "function"},
                     {"function", json::object{{"name", t.name},
                                               {"description", t.description},
                                               {"parameters", json::parse(t.parameters)}}}});
  }
  return out;
}

json::object ExecuteTool(Repo& repo, const std::string& project_id, std::string_view name,
                         std::string_view arguments_json, Millis now) {
  const ToolSpec* tool = FindTool(name);
  if (!tool) return Failure(UnknownTool(name));
  // Store failures propagate on purpose: the caller's transaction then rolls back the
  // tool's partial changes instead of committing them with an error result.
  auto args = ParseArguments(arguments_json);
  if (!args) return Failure(args.error().message);
  if (!repo.GetProject(project_id)) return Failure("Project not found");
  auto result = tool->run(Call{repo, project_id, *args, now});
  if (!result) return Failure(result.error().message);
  return std::move(*result);
}

std::string ProjectSummary(Repo& repo, const std::string& project_id, std::size_t max_paths) {
  auto paths = services::ListAllFilePaths(repo, project_id);
  if (paths.empty()) return "The project has no files yet.";
  std::string out = "Project files (" + std::to_string(paths.size()) + "):";
  for (std::size_t i = 0; i < paths.size() && i < max_paths; ++i) out += "\n" + paths[i];
  if (paths.size() > max_paths) {
    out += "\n... and " + std::to_string(paths.size() - max_paths) + " more";
  }
  return out;
}

}  // namespace polaris::agent
