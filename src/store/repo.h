#pragma once
// Repo: the storage operations the services need, run inside one transaction on a store
// thread. Implemented by SQLite (store/sqlite) and later PostgreSQL; services never see SQL.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/types.h"

namespace polaris {

class Repo {
 public:
  virtual ~Repo() = default;

  virtual void InsertProject(const Project& p) = 0;
  virtual std::optional<Project> GetProject(const std::string& id) = 0;
  // Newest first; limit < 0 means all.
  virtual std::vector<Project> ListProjects(const std::string& owner_id, int limit) = 0;
  virtual void UpdateProject(const std::string& id, const std::string& name, Millis updated_at) = 0;
  virtual void TouchProject(const std::string& id, Millis updated_at) = 0;
  // Cascades to files, conversations, messages and runs.
  virtual void DeleteProject(const std::string& id) = 0;

  virtual void InsertConversation(const Conversation& c) = 0;
  virtual std::optional<Conversation> GetConversation(const std::string& id) = 0;
  // Newest first.
  virtual std::vector<Conversation> ListConversations(const std::string& project_id) = 0;
  virtual void UpdateConversationTitle(const std::string& id, const std::string& title,
                                       Millis updated_at) = 0;
  virtual void TouchConversation(const std::string& id, Millis updated_at) = 0;

  virtual void InsertMessage(const Message& m) = 0;
  virtual std::optional<Message> GetMessage(const std::string& id) = 0;
  // Oldest first.
  virtual std::vector<Message> ListMessages(const std::string& conversation_id) = 0;
  virtual void UpdateMessage(const Message& m) = 0;
  // The fenced streaming write in one statement: sets the content only while the message is
  // processing and run_id is executing with this attempt. Returns whether it applied.
  virtual bool UpdateContentIfCurrent(const std::string& message_id, const std::string& run_id,
                                      int attempt, const std::string& content) = 0;
  // Every message still "processing", across all projects (start-up recovery).
  virtual std::vector<std::string> ListProcessingMessages() = 0;
  // The id of a message with status "processing" in the project, if any.
  virtual std::optional<std::string> FindProcessingMessage(const std::string& project_id) = 0;

  virtual void InsertRun(const Run& r) = 0;
  virtual std::optional<Run> GetRun(const std::string& id) = 0;
  virtual void UpdateRun(const Run& r) = 0;
  // Runs queued or executing, oldest first.
  virtual std::vector<Run> ListUnfinishedRuns() = 0;

  // Idempotency-Key records: the first answer to a (user, key) pair, as opaque text.
  virtual std::optional<std::string> GetIdempotentResponse(const std::string& user,
                                                           const std::string& key) = 0;
  virtual void PutIdempotentResponse(const std::string& user, const std::string& key,
                                     const std::string& response, Millis now) = 0;

  virtual void InsertFile(const FileNode& f) = 0;
  virtual std::optional<FileNode> GetFile(const std::string& id) = 0;
  virtual std::vector<FileNode> ListFiles(const std::string& project_id) = 0;
  // Children of parent_id (nullopt = project root), any type.
  virtual std::vector<FileNode> ListChildren(const std::string& project_id,
                                             const std::optional<std::string>& parent_id) = 0;
  virtual std::optional<FileNode> FindChild(const std::string& project_id,
                                            const std::optional<std::string>& parent_id,
                                            const std::string& name) = 0;
  virtual void UpdateFile(const FileNode& f) = 0;
  // Recursive: children go with their parent.
  virtual void DeleteFile(const std::string& id) = 0;

  // The change topics (domain/topics.h) written since the last call: the store publishes
  // them once the transaction commits, so live queries never miss a write.
  std::vector<std::string> TakeChangedTopics() { return std::exchange(changed_, {}); }

 protected:
  void NoteChange(std::string topic) { changed_.push_back(std::move(topic)); }

 private:
  std::vector<std::string> changed_;
};

}  // namespace polaris
