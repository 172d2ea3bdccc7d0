#pragma once
// The documents Polaris stores. Plain values: no JSON, HTTP or SQL here.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace polaris {

using Millis = std::int64_t;

struct Project {
  std::string id;
  Millis creation_time = 0;
  std::string name;
  std::string owner_id;
  Millis updated_at = 0;
};

struct Conversation {
  std::string id;
  Millis creation_time = 0;
  std::string project_id;
  std::string title;
  Millis updated_at = 0;
};

enum class FileType { kFile, kFolder };

struct FileNode {
  std::string id;
  Millis creation_time = 0;
  std::string project_id;
  std::optional<std::string> parent_id;
  std::string name;
  FileType type = FileType::kFile;
  std::optional<std::string> content;
  Millis updated_at = 0;
};

// A tool call on an assistant message. args/result are JSON texts, kept opaque here.
struct ToolCall {
  std::string id;
  std::string name;
  std::string args_json = "{}";
  std::optional<std::string> result_json;
};

struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};

enum class Role { kUser, kAssistant };
enum class MessageStatus { kProcessing, kCompleted, kCancelled, kFailed };

struct Message {
  std::string id;
  Millis creation_time = 0;
  std::string conversation_id;
  std::string project_id;
  Role role = Role::kUser;
  std::string content;
  std::optional<MessageStatus> status;
  std::optional<std::string> trigger_run_id;
  std::vector<ToolCall> tool_calls;
  std::optional<std::string> error;
  std::optional<std::string> model;
  std::optional<Usage> usage;
};

enum class RunStatus { kQueued, kExecuting, kCompleted, kFailed, kCancelled };

// A background run answering one assistant message (what Trigger.dev did for the original).
struct Run {
  std::string id;
  std::string message_id;
  std::string conversation_id;
  std::string project_id;
  std::string owner_id;
  RunStatus status = RunStatus::kQueued;
  int attempt = 0;  // attempts started so far
  Millis created_at = 0;
  std::optional<Millis> started_at;
  std::optional<Millis> finished_at;
  std::optional<std::string> provider;
  std::optional<std::string> model;
  std::optional<std::string> error;
  // Opaque resume state written by the agent after each completed step (JSON text).
  std::string checkpoint;
  // The process executing (or about to execute) the run, and until when (domain/run_lease.h).
  std::string lease_owner;
  Millis lease_expires_at = 0;
};

const char* ToString(RunStatus s);
std::optional<RunStatus> ParseRunStatus(std::string_view s);
const char* ToString(FileType t);
const char* ToString(Role r);
const char* ToString(MessageStatus s);
std::optional<FileType> ParseFileType(std::string_view s);
std::optional<Role> ParseRole(std::string_view s);
std::optional<MessageStatus> ParseMessageStatus(std::string_view s);

}  // namespace polaris
