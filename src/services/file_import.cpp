#include "services/file_import.h"

#include <algorithm>
#include <unordered_map>

#include "domain/limits.h"
#include "domain/text.h"
#include "services/access.h"

namespace polaris::services {
namespace {

bool IsQuotaError(const Error& e) {
  return std::any_of(e.fields.begin(), e.fields.end(),
                     [](const auto& kv) { return kv.first == "limit"; });
}

}  // namespace

Result<ImportResult> ImportFilesForUser(Repo& repo, const std::string& user,
                                        const std::string& project_id,
                                        const std::vector<ImportedFile>& files, Millis now) {
  if (auto st = CheckProjectAccess(repo, user, project_id); !st) return st.error();
  const std::int64_t max_file = CurrentLimits().max_import_file_bytes;
  ImportResult out;
  for (const auto& f : files) {
    if (static_cast<std::int64_t>(f.content.size()) > max_file) {
      out.skipped.push_back(
          {f.path, "larger than " + HumanBytes(static_cast<std::size_t>(max_file))});
      continue;
    }
    // Files are text: the editor and the model read them as UTF-8.
    if (f.content.find('\0') != std::string::npos || !IsValidUtf8(f.content)) {
      out.skipped.push_back({f.path, "not a text file"});
      continue;
    }
    auto written = WriteFileAtPath(repo, project_id, f.path, f.content, now);
    if (written) {
      ++out.written;
    } else if (IsQuotaError(written.error())) {
      return written.error();
    } else {
      out.skipped.push_back({f.path, written.error().message});
    }
  }
  return out;
}

Result<std::vector<PathedFile>> ExportTreeForUser(Repo& repo, const std::string& user,
                                                  const std::string& project_id) {
  if (auto st = CheckProjectAccess(repo, user, project_id); !st) return st.error();
  auto nodes = repo.ListFiles(project_id);
  std::unordered_map<std::string, const FileNode*> by_id;
  for (const auto& n : nodes) by_id[n.id] = &n;
  std::unordered_map<std::string, std::string> paths;
  // Paths are built parent first; the tree is shallow, so a memoized walk up is enough.
  auto path_of = [&](const FileNode& node, auto& self) -> std::string {
    if (auto it = paths.find(node.id); it != paths.end()) return it->second;
    std::string p = node.name;
    if (node.parent_id) {
      if (auto parent = by_id.find(*node.parent_id); parent != by_id.end()) {
        p = self(*parent->second, self) + "/" + node.name;
      }
    }
    paths[node.id] = p;
    return p;
  };
  std::vector<PathedFile> out;
  out.reserve(nodes.size());
  for (const auto& n : nodes) path_of(n, path_of);  // all paths before any node is moved
  for (auto& n : nodes) {
    std::string p = paths[n.id];
    out.push_back({std::move(p), std::move(n)});
  }
  std::sort(out.begin(), out.end(),
            [](const PathedFile& a, const PathedFile& b) { return a.path < b.path; });
  return out;
}

}  // namespace polaris::services
