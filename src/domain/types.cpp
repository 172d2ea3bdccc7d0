#include "domain/types.h"

namespace polaris {

const char* ToString(FileType t) {
  return t == FileType::kFile ? "file" : "folder";
}
const char* ToString(Role r) {
  return r == Role::kUser ? "user" : "assistant";
}
const char* ToString(MessageStatus s) {
  switch (s) {
    case MessageStatus::kProcessing:
      return "processing";
    case MessageStatus::kCompleted:
      return "completed";
    case MessageStatus::kCancelled:
      return "cancelled";
    case MessageStatus::kFailed:
      return "failed";
  }
  return "failed";
}

const char* ToString(RunStatus s) {
  switch (s) {
    case RunStatus::kQueued:
      return "queued";
    case RunStatus::kExecuting:
      return "executing";
    case RunStatus::kCompleted:
      return "completed";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kCancelled:
      return "cancelled";
  }
  return "failed";
}

std::optional<RunStatus> ParseRunStatus(std::string_view s) {
  for (auto st : {RunStatus::kQueued, RunStatus::kExecuting, RunStatus::kCompleted,
                  RunStatus::kFailed, RunStatus::kCancelled}) {
    if (s == ToString(st)) return st;
  }
  return std::nullopt;
}

std::optional<FileType> ParseFileType(std::string_view s) {
  if (s == "file") return FileType::kFile;
  if (s == "folder") return FileType::kFolder;
  return std::nullopt;
}
std::optional<Role> ParseRole(std::string_view s) {
  if (s == "user") return Role::kUser;
  if (s == "assistant") return Role::kAssistant;
  return std::nullopt;
}
std::optional<MessageStatus> ParseMessageStatus(std::string_view s) {
  for (auto st : {MessageStatus::kProcessing, MessageStatus::kCompleted, MessageStatus::kCancelled,
                  MessageStatus::kFailed}) {
    if (s == ToString(st)) return st;
  }
  return std::nullopt;
}

}  // namespace polaris
