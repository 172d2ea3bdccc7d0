#pragma once
// Change topics: the store names what each committed write touched, and a live query names
// what it read, in these terms. A query is re-run when a topic it read is committed.
#include <optional>
#include <string>
#include <string_view>

namespace polaris::topics {

// The messages of one conversation.
inline std::string Messages(std::string_view conversation_id) {
  return "m:" + std::string(conversation_id);
}
// Only the streamed text of one message changed (the agent's periodic flush). Watchers of the
// conversation's messages take it as Messages(conversation_id), except where the live tail
// of this process already has that message's text, which is newer.
inline std::string MessageContent(std::string_view conversation_id, std::string_view message_id) {
  return "mc:" + std::string(conversation_id) + "/" + std::string(message_id);
}
struct MessageContentTopic {
  std::string_view conversation_id;
  std::string_view message_id;
};
inline std::optional<MessageContentTopic> ParseMessageContent(std::string_view topic) {
  if (!topic.starts_with("mc:")) return std::nullopt;
  topic.remove_prefix(3);
  const auto slash = topic.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return MessageContentTopic{topic.substr(0, slash), topic.substr(slash + 1)};
}

// The conversations of one project (their list and each conversation document).
inline std::string Conversations(std::string_view project_id) {
  return "c:" + std::string(project_id);
}
// The files and folders of one project.
inline std::string Files(std::string_view project_id) {
  return "f:" + std::string(project_id);
}
// The projects of one owner (their list and each project document).
inline std::string Projects(std::string_view owner_id) {
  return "p:" + std::string(owner_id);
}

// Anything may have changed (news from other processes was missed): every live query re-runs.
inline std::string Everything() {
  return "*";
}

// A run was cancelled: the process executing it (maybe another one) stops it.
inline std::string RunCancelled(std::string_view run_id) {
  return "rc:" + std::string(run_id);
}
inline std::optional<std::string_view> ParseRunCancelled(std::string_view topic) {
  if (!topic.starts_with("rc:")) return std::nullopt;
  return topic.substr(3);
}

}  // namespace polaris::topics
