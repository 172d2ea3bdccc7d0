#pragma once
// Many files in one transaction: a project imported from a .zip, and the whole tree handed
// back for a download.
#include <string>
#include <vector>

#include "domain/result.h"
#include "services/files.h"
#include "store/repo.h"

namespace polaris::services {

struct ImportedFile {
  std::string path;
  std::string content;
};
struct ImportSkip {
  std::string path;
  std::string reason;
};
struct ImportResult {
  int written = 0;
  std::vector<ImportSkip> skipped;
};

// Writes every file (upsert, parents created) in the caller's one transaction. A file that
// cannot be written on its own (an invalid path, a folder or file in the way, binary content,
// larger than max_import_file_bytes) is skipped with the reason and leaves nothing behind; a
// full quota refuses the whole import (the caller rolls back).
Result<ImportResult> ImportFilesForUser(Repo& repo, const std::string& user,
                                        const std::string& project_id,
                                        const std::vector<ImportedFile>& files, Millis now);

// Every file (with content) and folder of the project with its path, sorted by path.
Result<std::vector<PathedFile>> ExportTreeForUser(Repo& repo, const std::string& user,
                                                  const std::string& project_id);

}  // namespace polaris::services
