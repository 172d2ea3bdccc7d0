#include "services/access.h"

namespace polaris::services {
namespace {
bool Owns(Repo& repo, const std::string& user, const std::string& project_id) {
  auto owner = repo.ProjectOwner(project_id);
  return owner && *owner == user;
}
}  // namespace

Status CheckId(std::string_view id, Table table, std::string_view field) {
  if (!IsValidId(id, table)) return Error::BadRequest("Invalid " + std::string(field));
  return Ok();
}

Result<Project> OwnedProject(Repo& repo, const std::string& user, const std::string& project_id) {
  if (auto st = CheckId(project_id, Table::kProject, "projectId"); !st) return st.error();
  auto p = repo.GetProject(project_id);
  if (!p || p->owner_id != user) return Error::NotFound("Project not found");
  return *p;
}

Status CheckProjectAccess(Repo& repo, const std::string& user, const std::string& project_id) {
  if (auto st = CheckId(project_id, Table::kProject, "projectId"); !st) return st.error();
  if (!Owns(repo, user, project_id)) return Error::NotFound("Project not found");
  return Ok();
}

Result<Conversation> OwnedConversation(Repo& repo, const std::string& user,
                                       const std::string& conversation_id) {
  if (auto st = CheckId(conversation_id, Table::kConversation, "conversationId"); !st) {
    return st.error();
  }
  auto c = repo.GetConversation(conversation_id);
  if (!c || !Owns(repo, user, c->project_id)) return Error::NotFound("Conversation not found");
  return *c;
}

Result<FileNode> OwnedFile(Repo& repo, const std::string& user, const std::string& file_id) {
  if (auto st = CheckId(file_id, Table::kFile, "fileId"); !st) return st.error();
  auto f = repo.GetFile(file_id);
  if (!f || !Owns(repo, user, f->project_id)) return Error::NotFound("File not found");
  return *f;
}

Result<Message> OwnedMessage(Repo& repo, const std::string& user, const std::string& message_id) {
  if (auto st = CheckId(message_id, Table::kMessage, "messageId"); !st) return st.error();
  auto m = repo.GetMessage(message_id);
  if (!m || !Owns(repo, user, m->project_id)) return Error::NotFound("Message not found");
  return *m;
}

}  // namespace polaris::services
