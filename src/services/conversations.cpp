#include "services/conversations.h"

#include "domain/ids.h"
#include "domain/text.h"
#include "services/access.h"
#include "services/quota.h"

namespace polaris::services {

Result<Conversation> CreateConversation(Repo& repo, const std::string& user,
                                        const std::string& project_id,
                                        const std::optional<std::string>& title, Millis now) {
  if (auto st = CheckProjectAccess(repo, user, project_id); !st) return st.error();
  std::string t = ToNfc(title.value_or(kDefaultConversationTitle));
  if (HasUnsafeCharacters(t)) {
    return Error::BadRequest("Title must not contain control or bidirectional-override characters");
  }
  if (CountCodePoints(t) > kMaxTitleChars) {
    return Error::BadRequest("Title is too long (at most 500 characters)");
  }
  if (IsBlank(t)) t = kDefaultConversationTitle;
  if (auto st = CheckConversationCount(repo, project_id); !st) return st.error();
  Conversation c{NewId(Table::kConversation), now, project_id, std::move(t), now};
  repo.InsertConversation(c);
  return c;
}

Result<std::vector<Conversation>> ListConversations(Repo& repo, const std::string& user,
                                                    const std::string& project_id) {
  if (auto st = CheckProjectAccess(repo, user, project_id); !st) return st.error();
  return repo.ListConversations(project_id);
}

Result<std::vector<Message>> ListMessages(Repo& repo, const std::string& user,
                                          const std::string& conversation_id) {
  auto c = OwnedConversation(repo, user, conversation_id);
  if (!c) return c.error();
  return repo.ListMessages(conversation_id);
}

}  // namespace polaris::services
