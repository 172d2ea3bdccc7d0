#pragma once
// Per-user and per-project quotas (domain/limits.h): checked inside the write's own
// transaction before anything is written, so a refused write leaves nothing behind.
#include <cstdint>
#include <string>

#include "domain/result.h"
#include "store/repo.h"

namespace polaris::services {

// A write about to add `nodes` files/folders and `bytes` content bytes (negative: frees) to
// the project: 409 files_per_project, or 413 project_bytes / user_bytes. Writes that only
// shrink usage always pass, even over a quota lowered since.
Status CheckProjectQuota(Repo& repo, const std::string& project_id, std::int64_t nodes,
                         std::int64_t bytes);
// 409 conversations_per_project when the project already has the maximum.
Status CheckConversationCount(Repo& repo, const std::string& project_id);
// 409 projects_per_user when the user already has the maximum.
Status CheckProjectCount(Repo& repo, const std::string& user);

}  // namespace polaris::services
