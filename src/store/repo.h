#pragma once
// Repo: the storage operations the services need, run inside one transaction on a store
// thread. Implemented by SQLite (store/sqlite) and later PostgreSQL; services never see SQL.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/types.h"

namespace polaris {

class Repo {
 public:
  virtual ~Repo() = default;

  virtual void InsertProject(const Project& p) = 0;
  virtual std::optional<Project> GetProject(const std::string& id) = 0;
  // Who owns the project (the access check). Not recorded as a read: an owner never changes,
  // and deleting a project is announced on each of its topics.
  virtual std::optional<std::string> ProjectOwner(const std::string& id) = 0;
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
  virtual int CountConversations(const std::string& project_id) = 0;
  virtual void UpdateConversationTitle(const std::string& id, const std::string& title,
                                       Millis updated_at) = 0;
  virtual void TouchConversation(const std::string& id, Millis updated_at) = 0;

  virtual void InsertMessage(const Message& m) = 0;
  virtual std::optional<Message> GetMessage(const std::string& id) = 0;
  // Oldest first.
  virtual std::vector<Message> ListMessages(const std::string& conversation_id) = 0;
  virtual int CountMessages(const std::string& conversation_id) = 0;
  virtual void UpdateMessage(const Message& m) = 0;
  // The same without the tool calls (content, status, error, model, usage): a step's writes
  // stay the size of what changed, not of every call the message ever made.
  virtual void UpdateMessageFields(const Message& m) = 0;
  // Adds calls after the message's existing ones.
  virtual void AppendToolCalls(const Message& m, const std::vector<ToolCall>& calls) = 0;
  // Records one call's result in place.
  virtual void SetToolCallResult(const Message& m, const std::string& call_id,
                                 const std::string& result_json) = 0;
  // The fenced streaming write in one statement: sets the content only while the message is
  // processing and run_id is executing with this attempt. Returns whether it applied.
  virtual bool UpdateContentIfCurrent(const std::string& message_id, const std::string& run_id,
                                      int attempt, const std::string& content) = 0;
  // Inserts a processing message unless another message of its project is processing, which
  // the database decides (it holds across processes sharing it): false then, nothing written.
  virtual bool InsertProcessingMessage(const Message& m) = 0;
  // Every message still "processing", across all projects (start-up recovery).
  virtual std::vector<std::string> ListProcessingMessages() = 0;
  // The id of a message with status "processing" in the project, if any.
  virtual std::optional<std::string> FindProcessingMessage(const std::string& project_id) = 0;

  virtual void InsertRun(const Run& r) = 0;
  virtual std::optional<Run> GetRun(const std::string& id) = 0;
  virtual void UpdateRun(const Run& r) = 0;
  // Runs queued or executing, oldest first.
  virtual std::vector<Run> ListUnfinishedRuns() = 0;
  // How many of the user's runs are queued or executing.
  virtual int CountActiveRuns(const std::string& owner_id) = 0;
  // Extends to expires_at the leases `owner` still holds on these runs while they are queued
  // or executing; returns the ids extended (a run missing is no longer this process's).
  virtual std::vector<std::string> RenewRunLeases(const std::string& owner,
                                                  const std::vector<std::string>& run_ids,
                                                  Millis expires_at) = 0;
  // Whether any queued or executing run's lease expired before `now` (a read, so that the
  // periodic sweep writes nothing while there is nothing to take).
  virtual bool HasExpiredRuns(Millis now) = 0;
  // Takes over, oldest first, up to `limit` queued or executing runs whose lease expired
  // before `now`: each now belongs to `owner` until expires_at. Runs another process is
  // taking at the same moment are skipped, not waited for.
  virtual std::vector<Run> TakeExpiredRuns(const std::string& owner, Millis now, Millis expires_at,
                                           int limit) = 0;

  // Idempotency-Key records: the first answer to a (user, key) pair, as opaque text, when it
  // was recorded at or after not_before (older ones have expired).
  virtual std::optional<std::string> GetIdempotentResponse(const std::string& user,
                                                           const std::string& key,
                                                           Millis not_before) = 0;
  // Records (or replaces an expired) answer, and drops the user's records older than
  // not_before.
  virtual void PutIdempotentResponse(const std::string& user, const std::string& key,
                                     const std::string& response, Millis now,
                                     Millis not_before) = 0;

  // Convex mutation answers, as opaque text: a client that re-sends a mutation (after a
  // reconnect, to any process) gets its first answer again. Each user has a fixed number of
  // slots, the caller picks one from the session and request: a new answer takes its slot
  // over, so what one user can make the store keep is bounded.
  struct MutationKey {
    std::string owner;
    int slot = 0;
    std::string session;
    std::int64_t request_id = 0;
  };
  // The answer recorded for exactly this key at or after not_before.
  virtual std::optional<std::string> GetMutationAnswer(const MutationKey& key,
                                                       Millis not_before) = 0;
  virtual void PutMutationAnswer(const MutationKey& key, const std::string& response,
                                 Millis now) = 0;

  virtual void InsertFile(const FileNode& f) = 0;
  virtual std::optional<FileNode> GetFile(const std::string& id) = 0;
  virtual std::vector<FileNode> ListFiles(const std::string& project_id) = 0;
  // The same documents without their contents (listings, path summaries).
  virtual std::vector<FileNode> ListFileMeta(const std::string& project_id) = 0;
  struct Usage {
    std::int64_t nodes = 0;  // files and folders
    std::int64_t bytes = 0;  // content bytes
  };
  virtual Usage ProjectUsage(const std::string& project_id) = 0;
  // Content bytes over all the owner's projects.
  virtual std::int64_t OwnerBytes(const std::string& owner_id) = 0;
  virtual int CountProjects(const std::string& owner_id) = 0;
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

  // While recording, every read names the topics whose change may change what it returned
  // (a live query is re-run when one of them is committed). The repo records them itself, so
  // no query can forget to say what it read. Off by default: other reads pay nothing.
  void RecordReads(bool on) {
    recording_ = on;
    read_.clear();
  }
  std::vector<std::string> TakeReadTopics() { return std::exchange(read_, {}); }

 protected:
  void NoteChange(std::string topic) { changed_.push_back(std::move(topic)); }
  void NoteRead(std::string (*topic)(std::string_view), std::string_view key) {
    if (recording_) read_.push_back(topic(key));
  }

 private:
  std::vector<std::string> changed_;
  std::vector<std::string> read_;
  bool recording_ = false;
};

}  // namespace polaris
