#pragma once
// Conversation use cases.
#include <optional>
#include <string>
#include <vector>

#include "domain/result.h"
#include "store/repo.h"

namespace polaris::services {

inline constexpr const char* kDefaultConversationTitle = "New conversation";
constexpr std::size_t kMaxTitleChars = 500;

Result<Conversation> CreateConversation(Repo& repo, const std::string& user,
                                        const std::string& project_id,
                                        const std::optional<std::string>& title, Millis now);
Result<std::vector<Conversation>> ListConversations(Repo& repo, const std::string& user,
                                                    const std::string& project_id);
Result<std::vector<Message>> ListMessages(Repo& repo, const std::string& user,
                                          const std::string& conversation_id);

}  // namespace polaris::services
