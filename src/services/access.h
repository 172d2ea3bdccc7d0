#pragma once
// Ownership, enforced in one place: every service reaches a document through these, and a
// document owned by someone else is reported exactly like a missing one.
#include <string>
#include <string_view>

#include "domain/ids.h"
#include "domain/result.h"
#include "store/repo.h"

namespace polaris::services {

// 400 "Invalid <field>" unless id has the shape of an id of table.
Status CheckId(std::string_view id, Table table, std::string_view field);

Result<Project> OwnedProject(Repo& repo, const std::string& user, const std::string& project_id);
// The same check without loading the project (and without a live query depending on it).
Status CheckProjectAccess(Repo& repo, const std::string& user, const std::string& project_id);
Result<Conversation> OwnedConversation(Repo& repo, const std::string& user,
                                       const std::string& conversation_id);
Result<FileNode> OwnedFile(Repo& repo, const std::string& user, const std::string& file_id);
Result<Message> OwnedMessage(Repo& repo, const std::string& user, const std::string& message_id);

}  // namespace polaris::services
