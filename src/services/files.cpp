#include "services/files.h"

#include <algorithm>
#include <unordered_map>

#include "domain/ids.h"
#include "domain/path.h"
#include "services/access.h"
#include "services/quota.h"

namespace polaris::services {
namespace {

std::string Join(const std::vector<std::string>& parts, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

// Walks (and, when create is set, makes) the folders above the last segment.
Result<std::optional<std::string>> ParentFolder(Repo& repo, const std::string& project_id,
                                                const std::vector<std::string>& parts, bool create,
                                                Millis now) {
  std::optional<std::string> parent;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    auto child = repo.FindChild(project_id, parent, parts[i]);
    if (child && child->type == FileType::kFile) {
      return Error::Conflict("A file exists at '" + Join(parts, i + 1) +
                             "'; it cannot be a folder");
    }
    if (!child) {
      if (!create) return Error::NotFound("Folder not found: " + Join(parts, i + 1));
      FileNode folder{NewId(Table::kFile), now,          project_id, parent, parts[i],
                      FileType::kFolder,   std::nullopt, now};
      repo.InsertFile(folder);
      child = std::move(folder);
    }
    parent = child->id;
  }
  return parent;
}

// What a write at a path would find, for the quota check that runs before anything is
// written: how many folders above the last segment are missing (ParentFolder creates them)
// and, when none is, the node already at the path.
struct PathProbe {
  std::int64_t missing_folders = 0;
  std::optional<FileNode> existing;
};
PathProbe ProbePath(Repo& repo, const std::string& project_id,
                    const std::vector<std::string>& parts) {
  std::optional<std::string> parent;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    auto child = repo.FindChild(project_id, parent, parts[i]);
    if (!child) return {static_cast<std::int64_t>(parts.size() - 1 - i), std::nullopt};
    parent = child->id;
  }
  return {0, repo.FindChild(project_id, parent, parts.back())};
}

std::int64_t ContentBytes(const FileNode& f) {
  return f.content ? static_cast<std::int64_t>(f.content->size()) : 0;
}

// The full path of node, or nullopt when its parent chain is broken (or cyclic: bounded walk).
std::optional<std::string> FullPath(const std::unordered_map<std::string, const FileNode*>& by_id,
                                    const FileNode& node) {
  std::vector<const std::string*> names{&node.name};
  const FileNode* cur = &node;
  while (cur->parent_id) {
    auto it = by_id.find(*cur->parent_id);
    if (it == by_id.end() || it->second->type != FileType::kFolder) return std::nullopt;
    if (names.size() > kMaxPathDepth) return std::nullopt;
    cur = it->second;
    names.push_back(&cur->name);
  }
  std::string path;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    if (!path.empty()) path += '/';
    path += **it;
  }
  return path;
}

// Resolves a path that must exist, for the operations that act on an existing node.
Result<FileNode> ExistingNode(Repo& repo, const std::string& project_id, const std::string& path) {
  auto parts = SplitPath(path);
  if (!parts) return parts.error();
  auto node = ResolvePath(repo, project_id, *parts);
  if (!node) return Error::NotFound("File or folder not found: " + path);
  return *node;
}

// The nodes from the root folder down to node. The walk is bounded: a chain longer than a
// path may be (or a broken one) can only come from a corrupt tree.
Result<std::vector<FileNode>> Lineage(Repo& repo, FileNode node) {
  std::vector<FileNode> chain{std::move(node)};
  while (chain.back().parent_id) {
    auto parent =
        chain.size() < kMaxPathDepth ? repo.GetFile(*chain.back().parent_id) : std::nullopt;
    if (!parent || parent->type != FileType::kFolder ||
        parent->project_id != chain.back().project_id) {
      return Error::Internal("The project's file tree is corrupt");
    }
    chain.push_back(std::move(*parent));
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

char FoldAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// ASCII letters case-insensitively, then (for names equal but for case) lowercase first, as
// localeCompare orders them; other bytes by value.
bool NameLess(const std::string& a, const std::string& b) {
  std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto ca = static_cast<unsigned char>(FoldAscii(a[i]));
    auto cb = static_cast<unsigned char>(FoldAscii(b[i]));
    if (ca != cb) return ca < cb;
  }
  if (a.size() != b.size()) return a.size() < b.size();
  return b < a;  // same letters: 'a' (0x61) sorts before 'A' (0x41)
}

// The one order of a folder's listing, for the IDE and the agent alike: folders first, then
// names as NameLess orders them (the order the original's file tree showed).
void SortListing(std::vector<FileNode>& children) {
  std::sort(children.begin(), children.end(), [](const FileNode& a, const FileNode& b) {
    bool a_folder = a.type == FileType::kFolder, b_folder = b.type == FileType::kFolder;
    return a_folder != b_folder ? a_folder : NameLess(a.name, b.name);
  });
}

std::string AlreadyExistsHere(FileType type) {
  return std::string("A ") + ToString(type) + " with this name already exists in this location";
}

// A longer name lengthens the path of everything below a folder: each must stay within the
// path limit, or the tree would hold nodes no path can address.
Status CheckRenameFits(Repo& repo, const FileNode& node, const std::string& new_name) {
  if (new_name.size() <= node.name.size()) return Ok();
  auto nodes = repo.ListFileMeta(node.project_id);
  std::unordered_map<std::string, const FileNode*> by_id;
  for (const auto& n : nodes) by_id.emplace(n.id, &n);
  const auto own = FullPath(by_id, node);
  if (!own) return Ok();  // a broken chain: nothing below it is addressable anyway
  // The node and its descendants are the paths that are its path or start with it + "/".
  std::size_t longest = own->size();
  for (const auto& n : nodes) {
    auto path = FullPath(by_id, n);
    if (path && path->size() > own->size() && path->starts_with(*own) &&
        (*path)[own->size()] == '/') {
      longest = std::max(longest, path->size());
    }
  }
  if (longest + new_name.size() - node.name.size() > kMaxPathBytes) {
    return Error::BadRequest("Invalid path: the new name would make a path longer than " +
                             std::to_string(kMaxPathBytes) + " bytes");
  }
  return Ok();
}

// Renames `node` in place (the caller stores it): the one rename of the agent's rename_file,
// the REST PATCH and Convex files:renameFile. Same name: nothing to do. A sibling with the
// name: 409, said as the original did ("A file with this name already exists in this
// location"). Every path below the node must stay within the path limit.
Status Rename(Repo& repo, FileNode& node, const std::string& raw_name) {
  auto normalized = NormalizeName(raw_name);
  if (!normalized) return normalized.error();
  const std::string& new_name = *normalized;
  if (new_name == node.name) return Ok();
  if (auto sibling = repo.FindChild(node.project_id, node.parent_id, new_name)) {
    return Error::Conflict(AlreadyExistsHere(sibling->type));
  }
  if (auto st = CheckRenameFits(repo, node, new_name); !st) return st;
  node.name = new_name;
  return Ok();
}

}  // namespace

std::optional<FileNode> ResolvePath(Repo& repo, const std::string& project_id,
                                    const std::vector<std::string>& parts) {
  std::optional<FileNode> node;
  std::optional<std::string> parent;
  for (const auto& name : parts) {
    if (node && node->type != FileType::kFolder) return std::nullopt;
    node = repo.FindChild(project_id, parent, name);
    if (!node) return std::nullopt;
    parent = node->id;
  }
  return node;
}

Result<FileNode> WriteFileAtPath(Repo& repo, const std::string& project_id, const std::string& path,
                                 const std::string& content, Millis now) {
  auto parts = SplitPath(path);
  if (!parts) return parts.error();
  {
    const auto probe = ProbePath(repo, project_id, *parts);
    const std::int64_t nodes = probe.missing_folders + (probe.existing ? 0 : 1);
    const std::int64_t bytes = static_cast<std::int64_t>(content.size()) -
                               (probe.existing ? ContentBytes(*probe.existing) : 0);
    if (auto st = CheckProjectQuota(repo, project_id, nodes, bytes); !st) return st.error();
  }
  auto parent = ParentFolder(repo, project_id, *parts, true, now);
  if (!parent) return parent.error();
  auto existing = repo.FindChild(project_id, *parent, parts->back());
  FileNode file;
  if (existing) {
    if (existing->type == FileType::kFolder) {
      return Error::Conflict("A folder already exists at '" + path + "'");
    }
    file = std::move(*existing);
    file.content = content;
    file.updated_at = std::max(now, file.updated_at);
    repo.UpdateFile(file);
  } else {
    file = FileNode{NewId(Table::kFile), now,     project_id, *parent, parts->back(),
                    FileType::kFile,     content, now};
    repo.InsertFile(file);
  }
  repo.TouchProject(project_id, now);
  return file;
}

Result<FileNode> CreateFolderAtPath(Repo& repo, const std::string& project_id,
                                    const std::string& path, Millis now) {
  auto parts = SplitPath(path);
  if (!parts) return parts.error();
  if (const auto probe = ProbePath(repo, project_id, *parts); !probe.existing) {
    const std::int64_t nodes = probe.missing_folders + 1;
    if (auto st = CheckProjectQuota(repo, project_id, nodes, 0); !st) return st.error();
  }
  auto parent = ParentFolder(repo, project_id, *parts, true, now);
  if (!parent) return parent.error();
  if (auto existing = repo.FindChild(project_id, *parent, parts->back())) {
    return Error::Conflict(existing->type == FileType::kFolder
                               ? "Folder already exists: '" + path + "'"
                               : "A file already exists at '" + path + "'");
  }
  FileNode folder{NewId(Table::kFile), now,          project_id, *parent, parts->back(),
                  FileType::kFolder,   std::nullopt, now};
  repo.InsertFile(folder);
  repo.TouchProject(project_id, now);
  return folder;
}

Result<FileNode> ReadFileAtPath(Repo& repo, const std::string& project_id,
                                const std::string& path) {
  auto parts = SplitPath(path);
  if (!parts) return parts.error();
  auto node = ResolvePath(repo, project_id, *parts);
  if (!node || node->type != FileType::kFile) return Error::NotFound("File not found: " + path);
  return *node;
}

Result<std::vector<FileNode>> ListFolderAtPath(Repo& repo, const std::string& project_id,
                                               const std::string& path) {
  std::optional<std::string> folder_id;
  if (!path.empty()) {
    auto parts = SplitPath(path);
    if (!parts) return parts.error();
    auto node = ResolvePath(repo, project_id, *parts);
    if (!node) return Error::NotFound("Folder not found: " + path);
    if (node->type != FileType::kFolder) return Error::BadRequest("Not a folder: " + path);
    folder_id = node->id;
  }
  auto children = repo.ListChildren(project_id, folder_id);
  SortListing(children);
  return children;
}

Status DeleteAtPath(Repo& repo, const std::string& project_id, const std::string& path,
                    Millis now) {
  auto node = ExistingNode(repo, project_id, path);
  if (!node) return node.error();
  repo.DeleteFile(node->id);
  repo.TouchProject(project_id, now);
  return Ok();
}

Result<FileNode> RenameAtPath(Repo& repo, const std::string& project_id, const std::string& path,
                              const std::string& raw_name, Millis now) {
  auto node = ExistingNode(repo, project_id, path);
  if (!node) return node.error();
  const std::string old_name = node->name;
  if (auto st = Rename(repo, *node, raw_name); !st) return st.error();
  if (node->name == old_name) return node;
  node->updated_at = std::max(now, node->updated_at);
  repo.UpdateFile(*node);
  repo.TouchProject(project_id, now);
  return node;
}

std::vector<PathedFile> ListFilesWithPaths(Repo& repo, const std::string& project_id,
                                           bool with_content) {
  auto nodes = with_content ? repo.ListFiles(project_id) : repo.ListFileMeta(project_id);
  std::unordered_map<std::string, const FileNode*> by_id;
  for (const auto& n : nodes) by_id.emplace(n.id, &n);
  // All paths first: moving a node out would break the names the map points at.
  std::vector<std::optional<std::string>> paths(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].type == FileType::kFile) paths[i] = FullPath(by_id, nodes[i]);
  }
  std::vector<PathedFile> out;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (paths[i]) out.push_back({std::move(*paths[i]), std::move(nodes[i])});
  }
  std::sort(out.begin(), out.end(),
            [](const PathedFile& a, const PathedFile& b) { return a.path < b.path; });
  return out;
}

std::vector<std::string> ListAllFilePaths(Repo& repo, const std::string& project_id) {
  std::vector<std::string> paths;
  for (auto& f : ListFilesWithPaths(repo, project_id, false)) paths.push_back(std::move(f.path));
  return paths;
}

Result<FileNode> WriteFileForUser(Repo& repo, const std::string& user,
                                  const std::string& project_id, const std::string& path,
                                  const std::string& content, Millis now) {
  if (auto st = CheckProjectAccess(repo, user, project_id); !st) return st.error();
  return WriteFileAtPath(repo, project_id, path, content, now);
}

Result<FileNode> CreateFolderForUser(Repo& repo, const std::string& user,
                                     const std::string& project_id, const std::string& path,
                                     Millis now) {
  if (auto st = CheckProjectAccess(repo, user, project_id); !st) return st.error();
  return CreateFolderAtPath(repo, project_id, path, now);
}

Result<FileNode> ReadFileForUser(Repo& repo, const std::string& user, const std::string& project_id,
                                 const std::string& path) {
  if (auto st = CheckProjectAccess(repo, user, project_id); !st) return st.error();
  return ReadFileAtPath(repo, project_id, path);
}

Result<std::vector<FileNode>> ListFilesForUser(Repo& repo, const std::string& user,
                                               const std::string& project_id, bool with_content) {
  if (auto st = CheckProjectAccess(repo, user, project_id); !st) return st.error();
  return with_content ? repo.ListFiles(project_id) : repo.ListFileMeta(project_id);
}

Status UpdateFileForUser(Repo& repo, const std::string& user, const std::string& file_id,
                         const FileUpdate& update, Millis now) {
  auto file = OwnedFile(repo, user, file_id);
  if (!file) return file.error();
  if (update.name) {
    if (auto st = Rename(repo, *file, *update.name); !st) return st;
  }
  if (update.content) {
    if (file->type == FileType::kFolder) return Error::BadRequest("A folder has no content");
    const std::int64_t bytes =
        static_cast<std::int64_t>(update.content->size()) - ContentBytes(*file);
    if (auto st = CheckProjectQuota(repo, file->project_id, 0, bytes); !st) return st;
    file->content = *update.content;
  }
  file->updated_at = std::max(now, file->updated_at);
  repo.UpdateFile(*file);
  repo.TouchProject(file->project_id, now);
  return Ok();
}

Status DeleteFileForUser(Repo& repo, const std::string& user, const std::string& file_id,
                         Millis now) {
  auto file = OwnedFile(repo, user, file_id);
  if (!file) return file.error();
  repo.DeleteFile(file_id);
  repo.TouchProject(file->project_id, now);
  return Ok();
}

Result<FileNode> CreateNodeForUser(Repo& repo, const std::string& user,
                                   const std::string& project_id,
                                   const std::optional<std::string>& parent_id,
                                   const std::string& raw_name,
                                   const std::optional<std::string>& content, Millis now) {
  if (auto st = CheckProjectAccess(repo, user, project_id); !st) return st.error();
  auto normalized = NormalizeName(raw_name);
  if (!normalized) return normalized.error();
  const std::string& name = *normalized;
  const FileType type = content ? FileType::kFile : FileType::kFolder;
  std::size_t depth = 1, bytes = name.size();
  if (parent_id) {
    if (auto st = CheckId(*parent_id, Table::kFile, "parentId"); !st) return st.error();
    auto parent = repo.GetFile(*parent_id);
    if (!parent || parent->project_id != project_id) {
      return Error::NotFound("Parent folder not found");
    }
    if (parent->type != FileType::kFolder) return Error::BadRequest("Parent is not a folder");
    auto chain = Lineage(repo, std::move(*parent));
    if (!chain) return chain.error();
    depth += chain->size();
    for (const auto& folder : *chain) bytes += folder.name.size() + 1;
  }
  // The same limits as a path, so every node stays addressable by the path operations.
  if (depth > kMaxPathDepth) return Error::BadRequest("Invalid path: too deep");
  if (bytes > kMaxPathBytes) return Error::BadRequest("Invalid path: too long");
  if (auto existing = repo.FindChild(project_id, parent_id, name)) {
    if (existing->type != type) return Error::Conflict(AlreadyExistsHere(existing->type));
    return Error::Conflict(type == FileType::kFile ? "File already exists"
                                                   : "Folder already exists");
  }
  const std::int64_t added = content ? static_cast<std::int64_t>(content->size()) : 0;
  if (auto st = CheckProjectQuota(repo, project_id, 1, added); !st) return st.error();
  FileNode node{NewId(Table::kFile), now, project_id, parent_id, name, type, content, now};
  repo.InsertFile(node);
  repo.TouchProject(project_id, now);
  return node;
}

Status RenameFileForUser(Repo& repo, const std::string& user, const std::string& file_id,
                         const std::string& raw_name, Millis now) {
  auto file = OwnedFile(repo, user, file_id);
  if (!file) return file.error();
  const std::string old_name = file->name;
  if (auto st = Rename(repo, *file, raw_name); !st) return st;
  if (file->name == old_name) return Ok();
  file->updated_at = std::max(now, file->updated_at);
  repo.UpdateFile(*file);
  repo.TouchProject(file->project_id, now);
  return Ok();
}

Result<std::vector<FileNode>> FilePathForUser(Repo& repo, const std::string& user,
                                              const std::string& file_id) {
  auto file = OwnedFile(repo, user, file_id);
  if (!file) return file.error();
  return Lineage(repo, std::move(*file));
}

Result<std::vector<FileNode>> ListFolderForUser(Repo& repo, const std::string& user,
                                                const std::string& project_id,
                                                const std::optional<std::string>& parent_id) {
  if (auto st = CheckProjectAccess(repo, user, project_id); !st) return st.error();
  if (parent_id) {
    if (auto st = CheckId(*parent_id, Table::kFile, "parentId"); !st) return st.error();
  }
  auto children = repo.ListChildren(project_id, parent_id);
  SortListing(children);
  return children;
}

}  // namespace polaris::services
