#include "services/files.h"

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
                                                const std::vector<std::string>& parts,
                                                bool create, Millis now) {
  std::optional<std::string> parent;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    auto child = repo.FindChild(project_id, parent, parts[i]);
    if (child && child->type == FileType::kFile) {
      return Error::Conflict("A file exists at '" + Join(parts, i + 1) + "'; it cannot be a folder");
    }
    if (!child) {
      if (!create) return Error::NotFound("Folder not found: " + Join(parts, i + 1));
      FileNode folder{NewId(Table::kFile), now, project_id, parent, parts[i],
                      FileType::kFolder, std::nullopt, now};
      repo.InsertFile(folder);
      child = std::move(folder);
    }
    parent = child->id;
  }
  return parent;
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

Result<FileNode> WriteFileAtPath(Repo& repo, const std::string& project_id,
                                 const std::string& path, const std::string& content, Millis now) {
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
    file = FileNode{NewId(Table::kFile), now, project_id, *parent, parts->back(),
                    FileType::kFile, content, now};
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
  FileNode folder{NewId(Table::kFile), now, project_id, *parent, parts->back(),
                  FileType::kFolder, std::nullopt, now};
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

Result<FileNode> ReadFileForUser(Repo& repo, const std::string& user,
                                 const std::string& project_id, const std::string& path) {
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
