#pragma once
// The project file tree: path-addressed operations shared by the REST routes and the agent's
// tools, and id-addressed ones for the REST/Convex file functions. Every change bumps the
// file's and the project's updatedAt.
#include <optional>
#include <string>
#include <vector>

#include "domain/result.h"
#include "store/repo.h"

namespace polaris::services {

// Looks a path up without creating anything; nullopt when absent. Path must be valid.
std::optional<FileNode> ResolvePath(Repo& repo, const std::string& project_id,
                                    const std::vector<std::string>& parts);

// Upserts a file at path, creating missing parent folders.
Result<FileNode> WriteFileAtPath(Repo& repo, const std::string& project_id, const std::string& path,
                                 const std::string& content, Millis now);
// Creates a folder at path (and missing parents); 409 when the path is taken.
Result<FileNode> CreateFolderAtPath(Repo& repo, const std::string& project_id,
                                    const std::string& path, Millis now);
// The file (not folder) at path, or 404.
Result<FileNode> ReadFileAtPath(Repo& repo, const std::string& project_id, const std::string& path);

// The children of the folder at path ("" = project root): folders first, then by name.
// 404 when the path does not exist, 400 when it names a file.
Result<std::vector<FileNode>> ListFolderAtPath(Repo& repo, const std::string& project_id,
                                               const std::string& path);
// Deletes the file or folder at path, recursively; 404 when absent.
Status DeleteAtPath(Repo& repo, const std::string& project_id, const std::string& path, Millis now);
// Renames the file or folder at path in place (new_name is one name, not a path); 409 when a
// sibling already has that name. Renaming to the current name changes nothing.
Result<FileNode> RenameAtPath(Repo& repo, const std::string& project_id, const std::string& path,
                              const std::string& new_name, Millis now);

struct PathedFile {
  std::string path;
  FileNode file;
};
// Every file (not folder) of the project with its full path, sorted by path; contents only
// when asked for (they can be large: listings and path summaries do without).
std::vector<PathedFile> ListFilesWithPaths(Repo& repo, const std::string& project_id,
                                           bool with_content);
// Every file (not folder) path of the project, sorted.
std::vector<std::string> ListAllFilePaths(Repo& repo, const std::string& project_id);

// Owner-checked variants used by the REST routes.
Result<FileNode> WriteFileForUser(Repo& repo, const std::string& user,
                                  const std::string& project_id, const std::string& path,
                                  const std::string& content, Millis now);
Result<FileNode> CreateFolderForUser(Repo& repo, const std::string& user,
                                     const std::string& project_id, const std::string& path,
                                     Millis now);
Result<FileNode> ReadFileForUser(Repo& repo, const std::string& user, const std::string& project_id,
                                 const std::string& path);
// Metadata only unless with_content (the Convex files:getFiles keeps the original's shape;
// the project quotas bound its size).
Result<std::vector<FileNode>> ListFilesForUser(Repo& repo, const std::string& user,
                                               const std::string& project_id,
                                               bool with_content = false);

struct FileUpdate {
  std::optional<std::string> name;
  std::optional<std::string> content;
};
Status UpdateFileForUser(Repo& repo, const std::string& user, const std::string& file_id,
                         const FileUpdate& update, Millis now);
// Recursive.
Status DeleteFileForUser(Repo& repo, const std::string& user, const std::string& file_id,
                         Millis now);

// Id-addressed operations of the Convex file functions (owner-checked; a parent is given by
// id, nullopt meaning the project root).

// Creates a file (content set) or a folder (content nullopt) named name under parent_id.
// 400 for an invalid name or a tree deeper or longer than a path may be; 404 "Parent folder
// not found" when parent_id is not a folder of the project; 409 when a sibling has the name:
// "File already exists" / "Folder already exists" for one of the same type, "A <type> with
// this name already exists in this location" for one of the other type.
Result<FileNode> CreateNodeForUser(Repo& repo, const std::string& user,
                                   const std::string& project_id,
                                   const std::optional<std::string>& parent_id,
                                   const std::string& name,
                                   const std::optional<std::string>& content, Millis now);
// Renames in place; 409 "A <type> with this name already exists in this location" (the
// sibling's type) when a sibling has the name. Renaming to the current name changes nothing.
Status RenameFileForUser(Repo& repo, const std::string& user, const std::string& file_id,
                         const std::string& new_name, Millis now);
// The nodes from the root folder down to the file itself.
Result<std::vector<FileNode>> FilePathForUser(Repo& repo, const std::string& user,
                                              const std::string& file_id);
// The children of parent_id in the project: folders first, then by name, comparing ASCII
// letters case-insensitively, ties with lowercase first (as localeCompare does), other bytes
// by value. A parent_id that is not a folder of the project has no children (as the
// original's index query).
Result<std::vector<FileNode>> ListFolderForUser(Repo& repo, const std::string& user,
                                                const std::string& project_id,
                                                const std::optional<std::string>& parent_id);

}  // namespace polaris::services
