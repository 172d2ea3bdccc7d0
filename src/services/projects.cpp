#include "services/projects.h"

#include "domain/ids.h"
#include "domain/text.h"
#include "services/access.h"
#include "services/quota.h"

namespace polaris::services {
namespace {
Status ValidateProjectName(const std::string& name) {
  if (IsBlank(name)) return Error::BadRequest("Project name must not be empty");
  if (HasUnsafeCharacters(name)) {
    return Error::BadRequest(
        "Project name must not contain control or bidirectional-override characters");
  }
  if (CountCodePoints(name) > kMaxProjectNameChars) {
    return Error::BadRequest("Project name is too long (at most 200 characters)");
  }
  return Ok();
}
}  // namespace

Result<Project> CreateProject(Repo& repo, const std::string& user, const std::string& raw_name,
                              Millis now) {
  const std::string name = ToNfc(raw_name);
  if (auto st = ValidateProjectName(name); !st) return st.error();
  if (auto st = CheckProjectCount(repo, user); !st) return st.error();
  Project p{NewId(Table::kProject), now, name, user, now};
  repo.InsertProject(p);
  return p;
}

std::vector<Project> ListProjects(Repo& repo, const std::string& user, int limit) {
  return repo.ListProjects(user, limit);
}

Status RenameProject(Repo& repo, const std::string& user, const std::string& project_id,
                     const std::string& raw_name, Millis now) {
  const std::string name = ToNfc(raw_name);
  auto p = OwnedProject(repo, user, project_id);
  if (!p) return p.error();
  if (auto st = ValidateProjectName(name); !st) return st;
  repo.UpdateProject(project_id, name, std::max(now, p->updated_at));
  return Ok();
}

Status DeleteProject(Repo& repo, const std::string& user, const std::string& project_id) {
  auto p = OwnedProject(repo, user, project_id);
  if (!p) return p.error();
  repo.DeleteProject(project_id);
  return Ok();
}

}  // namespace polaris::services
