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

namespace {
// 409 naming the limit once `count` things already reach `max`.
Status Room(int count, int max, const std::string& things, const std::string& per,
            const std::string& limit) {
  if (count < max) return Ok();
  return LimitError(ErrorCode::kConflict,
                    "Too many " + things + ": at most " + std::to_string(max) + " per " + per,
                    limit);
}
}  // namespace

Status CheckConversationCount(Repo& repo, const std::string& project_id) {
  return Room(repo.CountConversations(project_id), CurrentLimits().max_conversations_per_project,
              "conversations", "project", "conversations_per_project");
}

Status CheckProjectCount(Repo& repo, const std::string& user) {
  return Room(repo.CountProjects(user), CurrentLimits().max_projects_per_user, "projects", "user",
              "projects_per_user");
}

}  // namespace polaris::services
