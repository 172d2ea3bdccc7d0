#include "store/sqlite/sqlite_repo.h"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "domain/topics.h"

namespace polaris::sqlite {
namespace json = boost::json;
namespace {

// Named queries. Ordering ties on creation_time fall back to rowid (insertion order).
constexpr const char* kInsertProject =
    "INSERT INTO projects(id, owner_id, name, creation_time, updated_at) VALUES(?,?,?,?,?)";
constexpr const char* kGetProject =
    "SELECT id, owner_id, name, creation_time, updated_at FROM projects WHERE id=?";
constexpr const char* kProjectOwner = "SELECT owner_id FROM projects WHERE id=?";
constexpr const char* kListProjects =  // index projects_by_owner
    "SELECT id, owner_id, name, creation_time, updated_at FROM projects WHERE owner_id=? "
    "ORDER BY creation_time DESC, rowid DESC LIMIT ?";
constexpr const char* kUpdateProject =
    "UPDATE projects SET name=?, updated_at=? WHERE id=? RETURNING owner_id";
constexpr const char* kTouchProject =
    "UPDATE projects SET updated_at=max(updated_at, ?) WHERE id=? RETURNING owner_id";
constexpr const char* kDeleteProject = "DELETE FROM projects WHERE id=?";

constexpr const char* kInsertConversation =
    "INSERT INTO conversations(id, project_id, title, creation_time, updated_at) VALUES(?,?,?,?,?)";
constexpr const char* kGetConversation =
    "SELECT id, project_id, title, creation_time, updated_at FROM conversations WHERE id=?";
constexpr const char* kListConversations =  // index conversations_by_project
    "SELECT id, project_id, title, creation_time, updated_at FROM conversations "
    "WHERE project_id=? ORDER BY creation_time DESC, rowid DESC";
constexpr const char* kUpdateConversationTitle =
    "UPDATE conversations SET title=?, updated_at=max(updated_at, ?) WHERE id=? "
    "RETURNING project_id";
constexpr const char* kTouchConversation =
    "UPDATE conversations SET updated_at=max(updated_at, ?) WHERE id=? RETURNING project_id";

#define POLARIS_MESSAGE_COLS                                                               \
  "id, conversation_id, project_id, role, content, status, trigger_run_id, error, model, " \
  "prompt_tokens, completion_tokens, creation_time"
constexpr const char* kInsertMessage =
    "INSERT INTO messages(" POLARIS_MESSAGE_COLS ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?)";
constexpr const char* kGetMessage = "SELECT " POLARIS_MESSAGE_COLS " FROM messages WHERE id=?";
constexpr const char* kListMessages =  // index messages_by_conversation
    "SELECT " POLARIS_MESSAGE_COLS
    " FROM messages WHERE conversation_id=? ORDER BY creation_time, rowid";
constexpr const char* kUpdateMessage =
    "UPDATE messages SET content=?, status=?, trigger_run_id=?, error=?, model=?, "
    "prompt_tokens=?, completion_tokens=? WHERE id=?";
// Pinned to the partial index: with thousands of queued messages in other projects, a scan
// by status alone would make every POST linear in the backlog.
constexpr const char* kFindProcessing =
    "SELECT id FROM messages INDEXED BY messages_processing "
    "WHERE project_id=? AND status='processing' LIMIT 1";
constexpr const char* kDeleteToolCalls = "DELETE FROM tool_calls WHERE message_id=?";
constexpr const char* kInsertToolCall =
    "INSERT INTO tool_calls(message_id, position, call_id, name, args_json, result_json) "
    "VALUES(?,?,?,?,?,?)";
constexpr const char* kListToolCalls =  // primary key
    "SELECT call_id, name, args_json, result_json FROM tool_calls WHERE message_id=? "
    "ORDER BY position";

constexpr const char* kUpdateContentIfCurrent =  // primary keys of messages and runs
    "UPDATE messages SET content=?1 WHERE id=?2 AND status='processing' AND EXISTS "
    "(SELECT 1 FROM runs WHERE id=?3 AND status='executing' AND attempt=?4) RETURNING "
    "conversation_id";
constexpr const char* kListProcessing =  // partial index messages_processing
    "SELECT id FROM messages WHERE status='processing'";

#define POLARIS_RUN_COLS                                                                 \
  "id, message_id, conversation_id, project_id, owner_id, status, attempt, created_at, " \
  "started_at, finished_at, provider, model, error, checkpoint, lease_owner, lease_expires_at"
constexpr const char* kInsertRun =
    "INSERT INTO runs(" POLARIS_RUN_COLS ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
constexpr const char* kGetRun = "SELECT " POLARIS_RUN_COLS " FROM runs WHERE id=?";
constexpr const char* kUpdateRun =
    "UPDATE runs SET status=?, attempt=?, started_at=?, finished_at=?, provider=?, model=?, "
    "error=?, checkpoint=?, lease_owner=?, lease_expires_at=? WHERE id=?";
constexpr const char* kRenewRunLeases =  // primary key
    "UPDATE runs SET lease_expires_at=?1 WHERE lease_owner=?2 AND status IN ('queued', "
    "'executing') AND id IN (SELECT value FROM json_each(?3)) RETURNING id";
// One writer: no other process can be taking the same rows.
constexpr const char* kTakeExpiredRuns =  // partial index runs_unfinished
    "UPDATE runs SET lease_owner=?1, lease_expires_at=?2 WHERE id IN (SELECT id FROM runs "
    "WHERE status IN ('queued', 'executing') AND lease_expires_at<?3 ORDER BY created_at, rowid "
    "LIMIT ?4) RETURNING " POLARIS_RUN_COLS;
constexpr const char* kHasExpiredRuns =  // partial index runs_unfinished
    "SELECT 1 FROM runs WHERE status IN ('queued', 'executing') AND lease_expires_at<? LIMIT 1";
constexpr const char* kGetMutationAnswer =  // primary key
    "SELECT response FROM mutation_answers WHERE owner_id=? AND slot=? AND session_id=? AND "
    "request_id=? AND created_at>=?";
constexpr const char* kPutMutationAnswer =
    "INSERT OR REPLACE INTO mutation_answers(owner_id, slot, session_id, request_id, response, "
    "created_at) VALUES(?,?,?,?,?,?)";
constexpr const char* kListUnfinishedRuns =  // partial index runs_unfinished
    "SELECT " POLARIS_RUN_COLS
    " FROM runs WHERE status IN ('queued', 'executing') ORDER BY created_at, rowid";
constexpr const char* kCountActiveRuns =  // partial index runs_unfinished
    "SELECT count(*) FROM runs WHERE status IN ('queued', 'executing') AND owner_id=?";
constexpr const char* kGetIdempotent =  // primary key
    "SELECT response FROM idempotency_keys WHERE owner_id=? AND key=? AND created_at>=?";
constexpr const char* kPutIdempotent =
    "INSERT OR REPLACE INTO idempotency_keys(owner_id, key, response, created_at) "
    "VALUES(?,?,?,?)";
constexpr const char* kExpireIdempotent =  // primary key prefix
    "DELETE FROM idempotency_keys WHERE owner_id=? AND created_at<?";
constexpr const char* kMaxToolCallPosition =  // primary key
    "SELECT ifnull(max(position) + 1, 0) FROM tool_calls WHERE message_id=?";
constexpr const char* kSetToolCallResult =  // primary key prefix
    "UPDATE tool_calls SET result_json=? WHERE message_id=? AND call_id=?";

#define POLARIS_FILE_COLS \
  "id, project_id, parent_id, name, type, content, creation_time, updated_at"
constexpr const char* kInsertFile =
    "INSERT INTO files(" POLARIS_FILE_COLS ") VALUES(?,?,?,?,?,?,?,?)";
constexpr const char* kGetFile = "SELECT " POLARIS_FILE_COLS " FROM files WHERE id=?";
constexpr const char* kListFiles =  // index files_by_parent_name (prefix)
    "SELECT " POLARIS_FILE_COLS " FROM files WHERE project_id=? ORDER BY creation_time, rowid";
constexpr const char* kListChildren =  // index files_by_parent_name
    "SELECT " POLARIS_FILE_COLS
    " FROM files WHERE project_id=? AND ifnull(parent_id, '')=? ORDER BY name";
constexpr const char* kFindChild =  // index files_by_parent_name
    "SELECT " POLARIS_FILE_COLS
    " FROM files WHERE project_id=? AND ifnull(parent_id, '')=? AND name=?";
constexpr const char* kListFileMeta =  // covering index files_meta: never reads a content
    "SELECT id, project_id, parent_id, name, type, NULL, creation_time, updated_at FROM files "
    "INDEXED BY files_meta WHERE project_id=? ORDER BY creation_time, rowid";
constexpr const char* kProjectUsage =  // primary key; kept by the files_usage_* triggers
    "SELECT file_nodes, file_bytes FROM projects WHERE id=?";
constexpr const char* kOwnerBytes =  // index projects_by_owner: one row per project
    "SELECT ifnull(sum(file_bytes), 0) FROM projects WHERE owner_id=?";
constexpr const char* kCountProjects =  // index projects_by_owner
    "SELECT count(*) FROM projects WHERE owner_id=?";
constexpr const char* kCountConversations =  // index conversations_by_project
    "SELECT count(*) FROM conversations WHERE project_id=?";
constexpr const char* kCountMessages =  // index messages_by_conversation
    "SELECT count(*) FROM messages WHERE conversation_id=?";
constexpr const char* kUpdateFile =
    "UPDATE files SET parent_id=?, name=?, content=?, updated_at=? WHERE id=?";
constexpr const char* kDeleteFile = "DELETE FROM files WHERE id=? RETURNING project_id";

Project ReadProject(const Statement& s) {
  return Project{s.Text(0), s.Int(3), s.Text(2), s.Text(1), s.Int(4)};
}
Conversation ReadConversation(const Statement& s) {
  return Conversation{s.Text(0), s.Int(3), s.Text(1), s.Text(2), s.Int(4)};
}
FileNode ReadFile(const Statement& s) {
  FileNode f;
  f.id = s.Text(0);
  f.project_id = s.Text(1);
  f.parent_id = s.OptText(2);
  f.name = s.Text(3);
  f.type = ParseFileType(s.Text(4)).value_or(FileType::kFile);
  f.content = s.OptText(5);
  f.creation_time = s.Int(6);
  f.updated_at = s.Int(7);
  return f;
}
Message ReadMessageRow(const Statement& s) {
  Message m;
  m.id = s.Text(0);
  m.conversation_id = s.Text(1);
  m.project_id = s.Text(2);
  m.role = ParseRole(s.Text(3)).value_or(Role::kUser);
  m.content = s.Text(4);
  if (auto st = s.OptText(5)) m.status = ParseMessageStatus(*st);
  m.trigger_run_id = s.OptText(6);
  m.error = s.OptText(7);
  m.model = s.OptText(8);
  if (!s.IsNull(9)) m.usage = Usage{s.Int(9), s.Int(10)};
  m.creation_time = s.Int(11);
  return m;
}
std::optional<std::int64_t> OptInt(const Statement& s, int col) {
  if (s.IsNull(col)) return std::nullopt;
  return s.Int(col);
}
Run ReadRun(const Statement& s) {
  Run r;
  r.id = s.Text(0);
  r.message_id = s.Text(1);
  r.conversation_id = s.Text(2);
  r.project_id = s.Text(3);
  r.owner_id = s.Text(4);
  r.status = ParseRunStatus(s.Text(5)).value_or(RunStatus::kFailed);
  r.attempt = static_cast<int>(s.Int(6));
  r.created_at = s.Int(7);
  r.started_at = OptInt(s, 8);
  r.finished_at = OptInt(s, 9);
  r.provider = s.OptText(10);
  r.model = s.OptText(11);
  r.error = s.OptText(12);
  r.checkpoint = s.Text(13);
  r.lease_owner = s.Text(14);
  r.lease_expires_at = s.Int(15);
  return r;
}
void BindOptInt(Statement& s, int i, const std::optional<std::int64_t>& v) {
  if (v) {
    s.Bind(i, *v);
  } else {
    s.BindNull(i);
  }
}
std::optional<std::string> StatusText(const Message& m) {
  if (!m.status) return std::nullopt;
  return std::string(ToString(*m.status));
}
std::string ParentKey(const std::optional<std::string>& parent) {
  return parent.value_or("");
}

}  // namespace

std::int64_t SqliteRepo::SingleInt(const char* sql, const std::string& key) {
  auto s = db_.Prepare(sql);
  s.Bind(1, key);
  return s.Step() ? s.Int(0) : 0;
}
bool SqliteRepo::NoteReturned(Statement& s, std::string (*topic)(std::string_view)) {
  bool any = false;
  while (s.Step()) {
    NoteChange(topic(s.Text(0)));
    any = true;
  }
  return any;
}

void SqliteRepo::InsertProject(const Project& p) {
  db_.Prepare(kInsertProject)
      .Bind(1, p.id)
      .Bind(2, p.owner_id)
      .Bind(3, p.name)
      .Bind(4, p.creation_time)
      .Bind(5, p.updated_at)
      .Run();
  NoteChange(topics::Projects(p.owner_id));
}
std::optional<Project> SqliteRepo::GetProject(const std::string& id) {
  auto s = db_.Prepare(kGetProject);
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  Project p = ReadProject(s);
  NoteRead(topics::Projects, p.owner_id);
  return p;
}
std::optional<std::string> SqliteRepo::ProjectOwner(const std::string& id) {
  auto s = db_.Prepare(kProjectOwner);
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return s.Text(0);
}
std::vector<Project> SqliteRepo::ListProjects(const std::string& owner_id, int limit) {
  NoteRead(topics::Projects, owner_id);
  auto s = db_.Prepare(kListProjects);
  s.Bind(1, owner_id).Bind(2, static_cast<std::int64_t>(limit));
  std::vector<Project> out;
  while (s.Step()) out.push_back(ReadProject(s));
  return out;
}
void SqliteRepo::UpdateProject(const std::string& id, const std::string& name, Millis updated_at) {
  NoteReturned(db_.Prepare(kUpdateProject).Bind(1, name).Bind(2, updated_at).Bind(3, id),
               topics::Projects);
}
void SqliteRepo::TouchProject(const std::string& id, Millis updated_at) {
  NoteReturned(db_.Prepare(kTouchProject).Bind(1, updated_at).Bind(2, id), topics::Projects);
}
void SqliteRepo::DeleteProject(const std::string& id) {
  if (auto p = GetProject(id)) {
    NoteChange(topics::Projects(p->owner_id));
    NoteChange(topics::Conversations(id));
    NoteChange(topics::Files(id));
  }
  db_.Prepare(kDeleteProject).Bind(1, id).Run();
}

void SqliteRepo::InsertConversation(const Conversation& c) {
  db_.Prepare(kInsertConversation)
      .Bind(1, c.id)
      .Bind(2, c.project_id)
      .Bind(3, c.title)
      .Bind(4, c.creation_time)
      .Bind(5, c.updated_at)
      .Run();
  NoteChange(topics::Conversations(c.project_id));
}
std::optional<Conversation> SqliteRepo::GetConversation(const std::string& id) {
  auto s = db_.Prepare(kGetConversation);
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  Conversation c = ReadConversation(s);
  NoteRead(topics::Conversations, c.project_id);
  return c;
}
std::vector<Conversation> SqliteRepo::ListConversations(const std::string& project_id) {
  NoteRead(topics::Conversations, project_id);
  auto s = db_.Prepare(kListConversations);
  s.Bind(1, project_id);
  std::vector<Conversation> out;
  while (s.Step()) out.push_back(ReadConversation(s));
  return out;
}
void SqliteRepo::UpdateConversationTitle(const std::string& id, const std::string& title,
                                         Millis updated_at) {
  NoteReturned(db_.Prepare(kUpdateConversationTitle).Bind(1, title).Bind(2, updated_at).Bind(3, id),
               topics::Conversations);
}
void SqliteRepo::TouchConversation(const std::string& id, Millis updated_at) {
  NoteReturned(db_.Prepare(kTouchConversation).Bind(1, updated_at).Bind(2, id),
               topics::Conversations);
}

void SqliteRepo::InsertMessage(const Message& m) {
  auto s = db_.Prepare(kInsertMessage);
  s.Bind(1, m.id)
      .Bind(2, m.conversation_id)
      .Bind(3, m.project_id)
      .Bind(4, ToString(m.role))
      .Bind(5, m.content)
      .Bind(6, StatusText(m))
      .Bind(7, m.trigger_run_id)
      .Bind(8, m.error)
      .Bind(9, m.model);
  if (m.usage) {
    s.Bind(10, m.usage->prompt_tokens).Bind(11, m.usage->completion_tokens);
  } else {
    s.BindNull(10).BindNull(11);
  }
  s.Bind(12, m.creation_time).Run();
  WriteToolCalls(m);
  NoteChange(topics::Messages(m.conversation_id));
}
std::optional<Message> SqliteRepo::GetMessage(const std::string& id) {
  std::optional<Message> m;
  {
    auto s = db_.Prepare(kGetMessage);
    s.Bind(1, id);
    if (!s.Step()) return std::nullopt;
    m = ReadMessageRow(s);
  }
  NoteRead(topics::Messages, m->conversation_id);
  m->tool_calls = ReadToolCalls(m->id);
  return m;
}
std::vector<Message> SqliteRepo::ListMessages(const std::string& conversation_id) {
  NoteRead(topics::Messages, conversation_id);
  std::vector<Message> out;
  {
    auto s = db_.Prepare(kListMessages);
    s.Bind(1, conversation_id);
    while (s.Step()) out.push_back(ReadMessageRow(s));
  }
  for (auto& m : out) {
    if (m.role == Role::kAssistant) m.tool_calls = ReadToolCalls(m.id);
  }
  return out;
}
void SqliteRepo::UpdateMessage(const Message& m) {
  UpdateMessageFields(m);
  WriteToolCalls(m);
}
std::optional<std::string> SqliteRepo::FindProcessingMessage(const std::string& project_id) {
  auto s = db_.Prepare(kFindProcessing);
  s.Bind(1, project_id);
  if (!s.Step()) return std::nullopt;
  return s.Text(0);
}
void SqliteRepo::UpdateMessageFields(const Message& m) {
  auto s = db_.Prepare(kUpdateMessage);
  s.Bind(1, m.content)
      .Bind(2, StatusText(m))
      .Bind(3, m.trigger_run_id)
      .Bind(4, m.error)
      .Bind(5, m.model);
  if (m.usage) {
    s.Bind(6, m.usage->prompt_tokens).Bind(7, m.usage->completion_tokens);
  } else {
    s.BindNull(6).BindNull(7);
  }
  s.Bind(8, m.id).Run();
  NoteChange(topics::Messages(m.conversation_id));
}
void SqliteRepo::AppendToolCalls(const Message& m, const std::vector<ToolCall>& calls) {
  auto next = db_.Prepare(kMaxToolCallPosition);
  next.Bind(1, m.id);
  InsertToolCalls(m.id, next.Step() ? next.Int(0) : 0, calls);
  NoteChange(topics::Messages(m.conversation_id));
}
void SqliteRepo::SetToolCallResult(const Message& m, const std::string& call_id,
                                   const std::string& result_json) {
  db_.Prepare(kSetToolCallResult).Bind(1, result_json).Bind(2, m.id).Bind(3, call_id).Run();
  NoteChange(topics::Messages(m.conversation_id));
}
void SqliteRepo::WriteToolCalls(const Message& m) {
  db_.Prepare(kDeleteToolCalls).Bind(1, m.id).Run();
  InsertToolCalls(m.id, 0, m.tool_calls);
}
void SqliteRepo::InsertToolCalls(const std::string& message_id, std::int64_t first_position,
                                 const std::vector<ToolCall>& calls) {
  std::int64_t pos = first_position;
  for (const auto& tc : calls) {
    db_.Prepare(kInsertToolCall)
        .Bind(1, message_id)
        .Bind(2, pos++)
        .Bind(3, tc.id)
        .Bind(4, tc.name)
        .Bind(5, tc.args_json)
        .Bind(6, tc.result_json)
        .Run();
  }
}
std::vector<ToolCall> SqliteRepo::ReadToolCalls(const std::string& message_id) {
  auto s = db_.Prepare(kListToolCalls);
  s.Bind(1, message_id);
  std::vector<ToolCall> out;
  while (s.Step()) out.push_back(ToolCall{s.Text(0), s.Text(1), s.Text(2), s.OptText(3)});
  return out;
}

bool SqliteRepo::UpdateContentIfCurrent(const std::string& message_id, const std::string& run_id,
                                        int attempt, const std::string& content) {
  auto s = db_.Prepare(kUpdateContentIfCurrent);
  s.Bind(1, content).Bind(2, message_id).Bind(3, run_id).Bind(4, std::int64_t{attempt});
  if (!s.Step()) return false;
  NoteChange(topics::MessageContent(s.Text(0), message_id));
  return true;
}

bool SqliteRepo::InsertProcessingMessage(const Message& m) {
  // The one writer serializes every insert: the check cannot race another.
  if (FindProcessingMessage(m.project_id)) return false;
  InsertMessage(m);
  return true;
}
std::vector<std::string> SqliteRepo::ListProcessingMessages() {
  auto s = db_.Prepare(kListProcessing);
  std::vector<std::string> out;
  while (s.Step()) out.push_back(s.Text(0));
  return out;
}

void SqliteRepo::InsertRun(const Run& r) {
  auto s = db_.Prepare(kInsertRun);
  s.Bind(1, r.id)
      .Bind(2, r.message_id)
      .Bind(3, r.conversation_id)
      .Bind(4, r.project_id)
      .Bind(5, r.owner_id)
      .Bind(6, ToString(r.status))
      .Bind(7, std::int64_t{r.attempt})
      .Bind(8, r.created_at);
  BindOptInt(s, 9, r.started_at);
  BindOptInt(s, 10, r.finished_at);
  s.Bind(11, r.provider).Bind(12, r.model).Bind(13, r.error).Bind(14, r.checkpoint);
  s.Bind(15, r.lease_owner).Bind(16, r.lease_expires_at).Run();
}
std::optional<Run> SqliteRepo::GetRun(const std::string& id) {
  auto s = db_.Prepare(kGetRun);
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadRun(s);
}
void SqliteRepo::UpdateRun(const Run& r) {
  auto s = db_.Prepare(kUpdateRun);
  s.Bind(1, ToString(r.status)).Bind(2, std::int64_t{r.attempt});
  BindOptInt(s, 3, r.started_at);
  BindOptInt(s, 4, r.finished_at);
  s.Bind(5, r.provider).Bind(6, r.model).Bind(7, r.error).Bind(8, r.checkpoint);
  s.Bind(9, r.lease_owner).Bind(10, r.lease_expires_at).Bind(11, r.id).Run();
  // Processes executing the run hear of its cancel through this topic.
  if (r.status == RunStatus::kCancelled) NoteChange(topics::RunCancelled(r.id));
}
std::vector<std::string> SqliteRepo::RenewRunLeases(const std::string& owner,
                                                    const std::vector<std::string>& run_ids,
                                                    Millis expires_at) {
  json::array ids;
  for (const auto& id : run_ids) ids.emplace_back(id);
  auto s = db_.Prepare(kRenewRunLeases);
  s.Bind(1, expires_at).Bind(2, owner).Bind(3, json::serialize(ids));
  std::vector<std::string> out;
  while (s.Step()) out.push_back(s.Text(0));
  return out;
}
bool SqliteRepo::HasExpiredRuns(Millis now) {
  auto s = db_.Prepare(kHasExpiredRuns);
  s.Bind(1, now);
  return s.Step();
}
std::vector<Run> SqliteRepo::TakeExpiredRuns(const std::string& owner, Millis now,
                                             Millis expires_at, int limit) {
  auto s = db_.Prepare(kTakeExpiredRuns);
  s.Bind(1, owner).Bind(2, expires_at).Bind(3, now).Bind(4, std::int64_t{limit});
  std::vector<Run> out;
  while (s.Step()) out.push_back(ReadRun(s));
  return out;
}
std::vector<Run> SqliteRepo::ListUnfinishedRuns() {
  auto s = db_.Prepare(kListUnfinishedRuns);
  std::vector<Run> out;
  while (s.Step()) out.push_back(ReadRun(s));
  return out;
}
int SqliteRepo::CountActiveRuns(const std::string& owner_id) {
  return static_cast<int>(SingleInt(kCountActiveRuns, owner_id));
}
std::optional<std::string> SqliteRepo::GetIdempotentResponse(const std::string& user,
                                                             const std::string& key,
                                                             Millis not_before) {
  auto s = db_.Prepare(kGetIdempotent);
  s.Bind(1, user).Bind(2, key).Bind(3, not_before);
  if (!s.Step()) return std::nullopt;
  return s.Text(0);
}
void SqliteRepo::PutIdempotentResponse(const std::string& user, const std::string& key,
                                       const std::string& response, Millis now, Millis not_before) {
  db_.Prepare(kExpireIdempotent).Bind(1, user).Bind(2, not_before).Run();
  db_.Prepare(kPutIdempotent).Bind(1, user).Bind(2, key).Bind(3, response).Bind(4, now).Run();
}

std::optional<std::string> SqliteRepo::GetMutationAnswer(const MutationKey& key,
                                                         Millis not_before) {
  auto s = db_.Prepare(kGetMutationAnswer);
  s.Bind(1, key.owner)
      .Bind(2, std::int64_t{key.slot})
      .Bind(3, key.session)
      .Bind(4, key.request_id)
      .Bind(5, not_before);
  if (!s.Step()) return std::nullopt;
  return s.Text(0);
}
void SqliteRepo::PutMutationAnswer(const MutationKey& key, const std::string& response,
                                   Millis now) {
  db_.Prepare(kPutMutationAnswer)
      .Bind(1, key.owner)
      .Bind(2, std::int64_t{key.slot})
      .Bind(3, key.session)
      .Bind(4, key.request_id)
      .Bind(5, response)
      .Bind(6, now)
      .Run();
}

void SqliteRepo::InsertFile(const FileNode& f) {
  db_.Prepare(kInsertFile)
      .Bind(1, f.id)
      .Bind(2, f.project_id)
      .Bind(3, f.parent_id)
      .Bind(4, f.name)
      .Bind(5, ToString(f.type))
      .Bind(6, f.content)
      .Bind(7, f.creation_time)
      .Bind(8, f.updated_at)
      .Run();
  NoteChange(topics::Files(f.project_id));
}
std::optional<FileNode> SqliteRepo::GetFile(const std::string& id) {
  auto s = db_.Prepare(kGetFile);
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  FileNode f = ReadFile(s);
  NoteRead(topics::Files, f.project_id);
  return f;
}
std::vector<FileNode> SqliteRepo::ListFiles(const std::string& project_id) {
  NoteRead(topics::Files, project_id);
  auto s = db_.Prepare(kListFiles);
  s.Bind(1, project_id);
  std::vector<FileNode> out;
  while (s.Step()) out.push_back(ReadFile(s));
  return out;
}
std::vector<FileNode> SqliteRepo::ListFileMeta(const std::string& project_id) {
  NoteRead(topics::Files, project_id);
  auto s = db_.Prepare(kListFileMeta);
  s.Bind(1, project_id);
  std::vector<FileNode> out;
  while (s.Step()) out.push_back(ReadFile(s));
  return out;
}
Repo::Usage SqliteRepo::ProjectUsage(const std::string& project_id) {
  NoteRead(topics::Files, project_id);
  auto s = db_.Prepare(kProjectUsage);
  s.Bind(1, project_id);
  if (!s.Step()) return {};
  return Usage{s.Int(0), s.Int(1)};
}
std::int64_t SqliteRepo::OwnerBytes(const std::string& owner_id) {
  return SingleInt(kOwnerBytes, owner_id);
}
int SqliteRepo::CountConversations(const std::string& project_id) {
  NoteRead(topics::Conversations, project_id);
  return static_cast<int>(SingleInt(kCountConversations, project_id));
}
int SqliteRepo::CountMessages(const std::string& conversation_id) {
  NoteRead(topics::Messages, conversation_id);
  return static_cast<int>(SingleInt(kCountMessages, conversation_id));
}
int SqliteRepo::CountProjects(const std::string& owner_id) {
  NoteRead(topics::Projects, owner_id);
  return static_cast<int>(SingleInt(kCountProjects, owner_id));
}
std::vector<FileNode> SqliteRepo::ListChildren(const std::string& project_id,
                                               const std::optional<std::string>& parent_id) {
  NoteRead(topics::Files, project_id);
  auto s = db_.Prepare(kListChildren);
  s.Bind(1, project_id).Bind(2, ParentKey(parent_id));
  std::vector<FileNode> out;
  while (s.Step()) out.push_back(ReadFile(s));
  return out;
}
std::optional<FileNode> SqliteRepo::FindChild(const std::string& project_id,
                                              const std::optional<std::string>& parent_id,
                                              const std::string& name) {
  NoteRead(topics::Files, project_id);
  auto s = db_.Prepare(kFindChild);
  s.Bind(1, project_id).Bind(2, ParentKey(parent_id)).Bind(3, name);
  if (!s.Step()) return std::nullopt;
  return ReadFile(s);
}
void SqliteRepo::UpdateFile(const FileNode& f) {
  db_.Prepare(kUpdateFile)
      .Bind(1, f.parent_id)
      .Bind(2, f.name)
      .Bind(3, f.content)
      .Bind(4, f.updated_at)
      .Bind(5, f.id)
      .Run();
  NoteChange(topics::Files(f.project_id));
}
void SqliteRepo::DeleteFile(const std::string& id) {
  NoteReturned(db_.Prepare(kDeleteFile).Bind(1, id), topics::Files);
}

}  // namespace polaris::sqlite
