#include "services/files.h"

#include <algorithm>
#include <unordered_map>

#include "domain/ids.h"
#include "domain/path.h"
#include "services/access.h"

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
  std::sort(children.begin(), children.end(), [](const FileNode& a, const FileNode& b) {
    bool a_folder = a.type == FileType::kFolder, b_folder = b.type == FileType::kFolder;
    return a_folder != b_folder ? a_folder : a.name < b.name;
  });
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
                              const std::string& new_name, Millis now) {
  auto node = ExistingNode(repo, project_id, path);
  if (!node) return node.error();
  if (auto st = ValidateName(new_name); !st) return st.error();
  if (node->name == new_name) return node;
  if (repo.FindChild(project_id, node->parent_id, new_name)) {
    return Error::Conflict("A file or folder named '" + new_name +
                           "' already exists in this location");
  }
  node->name = new_name;
  node->updated_at = std::max(now, node->updated_at);
  repo.UpdateFile(*node);
  repo.TouchProject(project_id, now);
  return node;
}

std::vector<PathedFile> ListFilesWithPaths(Repo& repo, const std::string& project_id) {
  auto nodes = repo.ListFiles(project_id);
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
  for (auto& f : ListFilesWithPaths(repo, project_id)) paths.push_back(std::move(f.path));
  return paths;
}

Result<FileNode> WriteFileForUser(Repo& repo, const std::string& user,
                                  const std::string& project_id, const std::string& path,
                                  const std::string& content, Millis now) {
  if (auto p = OwnedProject(repo, user, project_id); !p) return p.error();
  return WriteFileAtPath(repo, project_id, path, content, now);
}

Result<FileNode> CreateFolderForUser(Repo& repo, const std::string& user,
                                     const std::string& project_id, const std::string& path,
                                     Millis now) {
  if (auto p = OwnedProject(repo, user, project_id); !p) return p.error();
  return CreateFolderAtPath(repo, project_id, path, now);
}

Result<FileNode> ReadFileForUser(Repo& repo, const std::string& user, const std::string& project_id,
                                 const std::string& path) {
  if (auto p = OwnedProject(repo, user, project_id); !p) return p.error();
  return ReadFileAtPath(repo, project_id, path);
}

Result<std::vector<FileNode>> ListFilesForUser(Repo& repo, const std::string& user,
                                               const std::string& project_id) {
  if (auto p = OwnedProject(repo, user, project_id); !p) return p.error();
  return repo.ListFiles(project_id);
}

Status UpdateFileForUser(Repo& repo, const std::string& user, const std::string& file_id,
                         const FileUpdate& update, Millis now) {
  auto file = OwnedFile(repo, user, file_id);
  if (!file) return file.error();
  if (update.name && *update.name != file->name) {
    if (auto st = ValidateName(*update.name); !st) return st;
    if (repo.FindChild(file->project_id, file->parent_id, *update.name)) {
      return Error::Conflict("A file or folder named '" + *update.name +
                             "' already exists in this location");
    }
    file->name = *update.name;
  }
  if (update.content) {
    if (file->type == FileType::kFolder) return Error::BadRequest("A folder has no content");
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

}  // namespace polaris::services
