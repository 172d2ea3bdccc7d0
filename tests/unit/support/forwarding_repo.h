#pragma once
// A Repo that forwards every call to another one: tests override the few calls they need to
// observe or to interleave with (another process writing between two calls of a service).
#include "store/repo.h"

namespace polaris::test_support {

class ForwardingRepo : public Repo {
 public:
  explicit ForwardingRepo(Repo& inner) : inner_(inner) {}

  void InsertProject(const Project& p) override { inner_.InsertProject(p); }
  std::optional<Project> GetProject(const std::string& id) override {
    return inner_.GetProject(id);
  }
  std::optional<std::string> ProjectOwner(const std::string& id) override {
    return inner_.ProjectOwner(id);
  }
  std::vector<Project> ListProjects(const std::string& owner_id, int limit) override {
    return inner_.ListProjects(owner_id, limit);
  }
  void UpdateProject(const std::string& id, const std::string& name, Millis updated_at) override {
    inner_.UpdateProject(id, name, updated_at);
  }
  void TouchProject(const std::string& id, Millis updated_at) override {
    inner_.TouchProject(id, updated_at);
  }
  void DeleteProject(const std::string& id) override { inner_.DeleteProject(id); }
  void InsertConversation(const Conversation& c) override { inner_.InsertConversation(c); }
  std::optional<Conversation> GetConversation(const std::string& id) override {
    return inner_.GetConversation(id);
  }
  std::vector<Conversation> ListConversations(const std::string& project_id) override {
    return inner_.ListConversations(project_id);
  }
  int CountConversations(const std::string& project_id) override {
    return inner_.CountConversations(project_id);
  }
  void UpdateConversationTitle(const std::string& id, const std::string& title,
                               Millis updated_at) override {
    inner_.UpdateConversationTitle(id, title, updated_at);
  }
  void TouchConversation(const std::string& id, Millis updated_at) override {
    inner_.TouchConversation(id, updated_at);
  }
  void InsertMessage(const Message& m) override { inner_.InsertMessage(m); }
  std::optional<Message> GetMessage(const std::string& id) override {
    return inner_.GetMessage(id);
  }
  std::vector<Message> ListMessages(const std::string& conversation_id) override {
    return inner_.ListMessages(conversation_id);
  }
  int CountMessages(const std::string& conversation_id) override {
    return inner_.CountMessages(conversation_id);
  }
  void UpdateMessage(const Message& m) override { inner_.UpdateMessage(m); }
  void UpdateMessageFields(const Message& m) override { inner_.UpdateMessageFields(m); }
  void AppendToolCalls(const Message& m, const std::vector<ToolCall>& calls) override {
    inner_.AppendToolCalls(m, calls);
  }
  void SetToolCallResult(const Message& m, const std::string& call_id,
                         const std::string& result_json) override {
    inner_.SetToolCallResult(m, call_id, result_json);
  }
  bool UpdateContentIfCurrent(const std::string& message_id, const std::string& run_id, int attempt,
                              const std::string& content) override {
    return inner_.UpdateContentIfCurrent(message_id, run_id, attempt, content);
  }
  bool InsertProcessingMessage(const Message& m) override {
    return inner_.InsertProcessingMessage(m);
  }
  std::vector<std::string> ListProcessingMessages() override {
    return inner_.ListProcessingMessages();
  }
  std::optional<std::string> FindProcessingMessage(const std::string& project_id) override {
    return inner_.FindProcessingMessage(project_id);
  }
  void InsertRun(const Run& r) override { inner_.InsertRun(r); }
  std::optional<Run> GetRun(const std::string& id) override { return inner_.GetRun(id); }
  void UpdateRun(const Run& r) override { inner_.UpdateRun(r); }
  std::vector<Run> ListUnfinishedRuns() override { return inner_.ListUnfinishedRuns(); }
  int CountActiveRuns(const std::string& owner_id) override {
    return inner_.CountActiveRuns(owner_id);
  }
  std::vector<std::string> RenewRunLeases(const std::string& owner,
                                          const std::vector<std::string>& run_ids,
                                          Millis expires_at) override {
    return inner_.RenewRunLeases(owner, run_ids, expires_at);
  }
  bool HasExpiredRuns(Millis now) override { return inner_.HasExpiredRuns(now); }
  std::vector<Run> TakeExpiredRuns(const std::string& owner, Millis now, Millis expires_at,
                                   int limit) override {
    return inner_.TakeExpiredRuns(owner, now, expires_at, limit);
  }
  std::optional<std::string> GetIdempotentResponse(const std::string& user, const std::string& key,
                                                   Millis not_before) override {
    return inner_.GetIdempotentResponse(user, key, not_before);
  }
  void PutIdempotentResponse(const std::string& user, const std::string& key,
                             const std::string& response, Millis now, Millis not_before) override {
    inner_.PutIdempotentResponse(user, key, response, now, not_before);
  }
  std::optional<std::string> GetMutationAnswer(const MutationKey& key, Millis not_before) override {
    return inner_.GetMutationAnswer(key, not_before);
  }
  void PutMutationAnswer(const MutationKey& key, const std::string& response, Millis now) override {
    inner_.PutMutationAnswer(key, response, now);
  }
  void InsertFile(const FileNode& f) override { inner_.InsertFile(f); }
  std::optional<FileNode> GetFile(const std::string& id) override { return inner_.GetFile(id); }
  std::vector<FileNode> ListFiles(const std::string& project_id) override {
    return inner_.ListFiles(project_id);
  }
  std::vector<FileNode> ListFileMeta(const std::string& project_id) override {
    return inner_.ListFileMeta(project_id);
  }
  Usage ProjectUsage(const std::string& project_id) override {
    return inner_.ProjectUsage(project_id);
  }
  std::int64_t OwnerBytes(const std::string& owner_id) override {
    return inner_.OwnerBytes(owner_id);
  }
  int CountProjects(const std::string& owner_id) override { return inner_.CountProjects(owner_id); }
  std::vector<FileNode> ListChildren(const std::string& project_id,
                                     const std::optional<std::string>& parent_id) override {
    return inner_.ListChildren(project_id, parent_id);
  }
  std::optional<FileNode> FindChild(const std::string& project_id,
                                    const std::optional<std::string>& parent_id,
                                    const std::string& name) override {
    return inner_.FindChild(project_id, parent_id, name);
  }
  void UpdateFile(const FileNode& f) override { inner_.UpdateFile(f); }
  void DeleteFile(const std::string& id) override { inner_.DeleteFile(id); }

 protected:
  Repo& inner_;
};

}  // namespace polaris::test_support
