#pragma once
// Project use cases (Op* style: synchronous, run inside one store transaction).
#include <string>
#include <vector>

#include "domain/result.h"
#include "store/repo.h"

namespace polaris::services {

constexpr std::size_t kMaxProjectNameChars = 200;

Result<Project> CreateProject(Repo& repo, const std::string& user, const std::string& name,
                              Millis now);
std::vector<Project> ListProjects(Repo& repo, const std::string& user, int limit = -1);
Status RenameProject(Repo& repo, const std::string& user, const std::string& project_id,
                     const std::string& name, Millis now);
Status DeleteProject(Repo& repo, const std::string& user, const std::string& project_id);

}  // namespace polaris::services
