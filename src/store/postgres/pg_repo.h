#pragma once
#include "store/postgres/pg_connection.h"
#include "store/repo.h"

namespace polaris::pg {

// Repo over one PostgreSQL connection; the caller owns the transaction. Same queries,
// ordering and change topics as SqliteRepo (store/sqlite/sqlite_repo.cpp).
class PgRepo final : public Repo {
 public:
  // lock_rows (the writer's repo): reading a run locks its row until the transaction ends.
  explicit PgRepo(Connection& db, bool lock_rows = false) : db_(db), lock_rows_(lock_rows) {}

  void InsertProject(const Project& p) override;
  std::optional<Project> GetProject(const std::string& id) override;
  std::optional<std::string> ProjectOwner(const std::string& id) override;
  std::vector<Project> ListProjects(const std::string& owner_id, int limit) override;
  void UpdateProject(const std::string& id, const std::string& name, Millis updated_at) override;
  void TouchProject(const std::string& id, Millis updated_at) override;
  void DeleteProject(const std::string& id) override;

  void InsertConversation(const Conversation& c) override;
  std::optional<Conversation> GetConversation(const std::string& id) override;
  std::vector<Conversation> ListConversations(const std::string& project_id) override;
  void UpdateConversationTitle(const std::string& id, const std::string& title,
                               Millis updated_at) override;
  void TouchConversation(const std::string& id, Millis updated_at) override;

  void InsertMessage(const Message& m) override;
  std::optional<Message> GetMessage(const std::string& id) override;
  std::vector<Message> ListMessages(const std::string& conversation_id) override;
  void UpdateMessage(const Message& m) override;
  void UpdateMessageFields(const Message& m) override;
  void AppendToolCalls(const Message& m, const std::vector<ToolCall>& calls) override;
  void SetToolCallResult(const Message& m, const std::string& call_id,
                         const std::string& result_json) override;
  bool UpdateContentIfCurrent(const std::string& message_id, const std::string& run_id, int attempt,
                              const std::string& content) override;
  bool InsertProcessingMessage(const Message& m) override;
  std::vector<std::string> ListProcessingMessages() override;
  std::optional<std::string> FindProcessingMessage(const std::string& project_id) override;

  void InsertRun(const Run& r) override;
  std::optional<Run> GetRun(const std::string& id) override;
  void UpdateRun(const Run& r) override;
  std::vector<Run> ListUnfinishedRuns() override;
  int CountActiveRuns(const std::string& owner_id) override;
  std::vector<std::string> RenewRunLeases(const std::string& owner,
                                          const std::vector<std::string>& run_ids,
                                          Millis expires_at) override;
  bool HasExpiredRuns(Millis now) override;
  std::vector<Run> TakeExpiredRuns(const std::string& owner, Millis now, Millis expires_at,
                                   int limit) override;
  std::optional<std::string> GetMutationAnswer(const MutationKey& key, Millis not_before) override;
  void PutMutationAnswer(const MutationKey& key, const std::string& response, Millis now) override;
  std::optional<std::string> GetIdempotentResponse(const std::string& user, const std::string& key,
                                                   Millis not_before) override;
  void PutIdempotentResponse(const std::string& user, const std::string& key,
                             const std::string& response, Millis now, Millis not_before) override;

  void InsertFile(const FileNode& f) override;
  std::optional<FileNode> GetFile(const std::string& id) override;
  std::vector<FileNode> ListFiles(const std::string& project_id) override;
  std::vector<FileNode> ListFileMeta(const std::string& project_id) override;
  Usage ProjectUsage(const std::string& project_id) override;
  std::int64_t OwnerBytes(const std::string& owner_id) override;
  int CountProjects(const std::string& owner_id) override;
  int CountConversations(const std::string& project_id) override;
  int CountMessages(const std::string& conversation_id) override;
  std::vector<FileNode> ListChildren(const std::string& project_id,
                                     const std::optional<std::string>& parent_id) override;
  std::optional<FileNode> FindChild(const std::string& project_id,
                                    const std::optional<std::string>& parent_id,
                                    const std::string& name) override;
  void UpdateFile(const FileNode& f) override;
  void DeleteFile(const std::string& id) override;

 private:
  // Notes topic(id) for each row of a write's "RETURNING <id>"; true if any row.
  bool NoteReturned(const Result& rows, std::string (*topic)(std::string_view));
  void WriteToolCalls(const Message& m);
  void InsertToolCalls(const std::string& message_id, std::int64_t first_position,
                       const std::vector<ToolCall>& calls);
  // The one integer a one-parameter query answers (a count or a sum), 0 without a row.
  std::int64_t SingleInt(const char* sql, const std::string& key);
  std::vector<ToolCall> ReadToolCalls(const std::string& message_id);
  Connection& db_;
  const bool lock_rows_;
};

}  // namespace polaris::pg
