#include "services/quota.h"

#include "domain/limits.h"

namespace polaris::services {

Status CheckProjectQuota(Repo& repo, const std::string& project_id, std::int64_t nodes,
                         std::int64_t bytes) {
  if (nodes <= 0 && bytes <= 0) return Ok();
  const Limits& l = CurrentLimits();
  const auto usage = repo.ProjectUsage(project_id);
  if (nodes > 0 && usage.nodes + nodes > l.max_files_per_project) {
    return LimitError(ErrorCode::kConflict,
                      "Too many files: a project holds at most " +
                          std::to_string(l.max_files_per_project) + " files and folders",
                      "files_per_project");
  }
  if (bytes <= 0) return Ok();
  if (usage.bytes + bytes > l.max_project_bytes) {
    return LimitError(ErrorCode::kTooLarge,
                      "Project is full: its files may hold at most " +
                          std::to_string(l.max_project_bytes) + " bytes",
                      "project_bytes");
  }
  auto project = repo.GetProject(project_id);
  if (project && repo.OwnerBytes(project->owner_id) + bytes > l.max_user_bytes) {
    return LimitError(ErrorCode::kTooLarge,
                      "Storage is full: all your projects' files may hold at most " +
                          std::to_string(l.max_user_bytes) + " bytes",
                      "user_bytes");
  }
  return Ok();
}

Status CheckConversationCount(Repo& repo, const std::string& project_id) {
  const int max = CurrentLimits().max_conversations_per_project;
  if (repo.CountConversations(project_id) >= max) {
    return LimitError(ErrorCode::kConflict,
                      "Too many conversations: at most " + std::to_string(max) + " per project",
                      "conversations_per_project");
  }
  return Ok();
}

Status CheckProjectCount(Repo& repo, const std::string& user) {
  const int max = CurrentLimits().max_projects_per_user;
  if (repo.CountProjects(user) >= max) {
    return LimitError(ErrorCode::kConflict,
                      "Too many projects: at most " + std::to_string(max) + " per user",
                      "projects_per_user");
  }
  return Ok();
}

}  // namespace polaris::services
