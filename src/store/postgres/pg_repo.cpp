#include "store/postgres/pg_repo.h"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <unordered_map>

#include "domain/topics.h"

namespace polaris::pg {
namespace json = boost::json;
namespace {

// Named queries, as in sqlite_repo.cpp. Ordering ties on creation_time fall back to seq
// (insertion order), the identity column standing in for SQLite's rowid.
constexpr const char* kInsertProject =
    "INSERT INTO projects(id, owner_id, name, creation_time, updated_at) VALUES($1,$2,$3,$4,$5)";
constexpr const char* kGetProject =
    "SELECT id, owner_id, name, creation_time, updated_at FROM projects WHERE id=$1";
constexpr const char* kProjectOwner = "SELECT owner_id FROM projects WHERE id=$1";
constexpr const char* kListProjects =  // index projects_by_owner; LIMIT NULL means all
    "SELECT id, owner_id, name, creation_time, updated_at FROM projects WHERE owner_id=$1 "
    "ORDER BY creation_time DESC, seq DESC LIMIT $2";
constexpr const char* kUpdateProject =
    "UPDATE projects SET name=$1, updated_at=$2 WHERE id=$3 RETURNING owner_id";
constexpr const char* kTouchProject =
    "UPDATE projects SET updated_at=greatest(updated_at, $1) WHERE id=$2 RETURNING owner_id";
constexpr const char* kDeleteProject = "DELETE FROM projects WHERE id=$1";

constexpr const char* kInsertConversation =
    "INSERT INTO conversations(id, project_id, title, creation_time, updated_at) "
    "VALUES($1,$2,$3,$4,$5)";
constexpr const char* kGetConversation =
    "SELECT id, project_id, title, creation_time, updated_at FROM conversations WHERE id=$1";
constexpr const char* kListConversations =  // index conversations_by_project
    "SELECT id, project_id, title, creation_time, updated_at FROM conversations "
    "WHERE project_id=$1 ORDER BY creation_time DESC, seq DESC";
constexpr const char* kUpdateConversationTitle =
    "UPDATE conversations SET title=$1, updated_at=greatest(updated_at, $2) WHERE id=$3 "
    "RETURNING project_id";
constexpr const char* kTouchConversation =
    "UPDATE conversations SET updated_at=greatest(updated_at, $1) WHERE id=$2 "
    "RETURNING project_id";

#define POLARIS_MESSAGE_COLS                                                               \
  "id, conversation_id, project_id, role, content, status, trigger_run_id, error, model, " \
  "prompt_tokens, completion_tokens, creation_time"
constexpr const char* kInsertMessage =
    "INSERT INTO messages(" POLARIS_MESSAGE_COLS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)";
constexpr const char* kGetMessage = "SELECT " POLARIS_MESSAGE_COLS " FROM messages WHERE id=$1";
constexpr const char* kListMessages =  // index messages_by_conversation
    "SELECT " POLARIS_MESSAGE_COLS
    " FROM messages WHERE conversation_id=$1 ORDER BY creation_time, seq";
constexpr const char* kUpdateMessage =
    "UPDATE messages SET content=$1, status=$2, trigger_run_id=$3, error=$4, model=$5, "
    "prompt_tokens=$6, completion_tokens=$7 WHERE id=$8";
constexpr const char* kFindProcessing =  // unique partial index messages_processing
    "SELECT id FROM messages WHERE project_id=$1 AND status='processing' LIMIT 1";
constexpr const char* kDeleteToolCalls = "DELETE FROM tool_calls WHERE message_id=$1";
constexpr const char* kInsertToolCall =
    "INSERT INTO tool_calls(message_id, position, call_id, name, args_json, result_json) "
    "VALUES($1,$2,$3,$4,$5,$6)";
constexpr const char* kListToolCalls =  // primary key
    "SELECT call_id, name, args_json, result_json FROM tool_calls WHERE message_id=$1 "
    "ORDER BY position";
// The calls of every assistant message of a conversation in one round trip, where SQLite
// runs kListToolCalls once per message (cheap in process, a network round trip here).
constexpr const char* kListConversationToolCalls =  // messages_by_conversation + primary key
    "SELECT t.message_id, t.call_id, t.name, t.args_json, t.result_json "
    "FROM messages m JOIN tool_calls t ON t.message_id = m.id "
    "WHERE m.conversation_id=$1 AND m.role='assistant' ORDER BY t.message_id, t.position";

constexpr const char* kUpdateContentIfCurrent =  // primary keys of messages and runs
    "UPDATE messages SET content=$1 WHERE id=$2 AND status='processing' AND EXISTS "
    "(SELECT 1 FROM runs WHERE id=$3 AND status='executing' AND attempt=$4) RETURNING "
    "conversation_id";
constexpr const char* kListProcessing =  // partial index messages_processing
    "SELECT id FROM messages WHERE status='processing'";

#define POLARIS_RUN_COLS                                                                 \
  "id, message_id, conversation_id, project_id, owner_id, status, attempt, created_at, " \
  "started_at, finished_at, provider, model, error, checkpoint, lease_owner, lease_expires_at"
constexpr const char* kInsertRun =
    "INSERT INTO runs(" POLARIS_RUN_COLS
    ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)";
constexpr const char* kGetRun = "SELECT " POLARIS_RUN_COLS " FROM runs WHERE id=$1";
// In the writer: the row stays locked until the batch commits, so a read-check-write of a run
// (a claim, a fenced step, a cancel) never interleaves with another process's.
constexpr const char* kGetRunForUpdate =
    "SELECT " POLARIS_RUN_COLS " FROM runs WHERE id=$1 FOR UPDATE";
constexpr const char* kUpdateRun =
    "UPDATE runs SET status=$1, attempt=$2, started_at=$3, finished_at=$4, provider=$5, "
    "model=$6, error=$7, checkpoint=$8, lease_owner=$9, lease_expires_at=$10 WHERE id=$11";
constexpr const char* kRenewRunLeases =  // primary key
    "UPDATE runs SET lease_expires_at=$1 WHERE lease_owner=$2 AND status IN ('queued', "
    "'executing') AND id IN (SELECT json_array_elements_text($3::json)) RETURNING id";
// Rows another process is taking over right now are skipped, not waited for.
constexpr const char* kTakeExpiredRuns =  // partial index runs_unfinished_by_lease
    "UPDATE runs SET lease_owner=$1, lease_expires_at=$2 WHERE id IN (SELECT id FROM runs "
    "WHERE status IN ('queued', 'executing') AND lease_expires_at<$3 ORDER BY created_at, seq "
    "LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING " POLARIS_RUN_COLS;
constexpr const char* kHasExpiredRuns =  // partial index runs_unfinished_by_lease
    "SELECT 1 FROM runs WHERE status IN ('queued', 'executing') AND lease_expires_at<$1 LIMIT 1";
constexpr const char* kGetMutationAnswer =  // primary key
    "SELECT response FROM mutation_answers WHERE owner_id=$1 AND slot=$2 AND session_id=$3 "
    "AND request_id=$4 AND created_at>=$5";
constexpr const char* kPutMutationAnswer =
    "INSERT INTO mutation_answers(owner_id, slot, session_id, request_id, response, created_at) "
    "VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT (owner_id, slot) DO UPDATE SET "
    "session_id=excluded.session_id, request_id=excluded.request_id, "
    "response=excluded.response, created_at=excluded.created_at";
// The database decides whether the project is idle: the unique index messages_processing
// admits one processing message per project, across processes. A concurrent insert waits
// for the other to commit or roll back, then inserts or does nothing.
constexpr const char* kInsertProcessingMessage =
    "INSERT INTO messages(" POLARIS_MESSAGE_COLS
    ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT (project_id) WHERE "
    "status='processing' DO NOTHING RETURNING id";
constexpr const char* kListUnfinishedRuns =  // partial index runs_unfinished
    "SELECT " POLARIS_RUN_COLS
    " FROM runs WHERE status IN ('queued', 'executing') ORDER BY created_at, seq";
constexpr const char* kCountActiveRuns =  // partial index runs_active_by_owner
    "SELECT count(*) FROM runs WHERE status IN ('queued', 'executing') AND owner_id=$1";
constexpr const char* kGetIdempotent =  // primary key
    "SELECT response FROM idempotency_keys WHERE owner_id=$1 AND key=$2 AND created_at>=$3";
// SQLite's INSERT OR REPLACE.
constexpr const char* kPutIdempotent =
    "INSERT INTO idempotency_keys(owner_id, key, response, created_at) VALUES($1,$2,$3,$4) "
    "ON CONFLICT (owner_id, key) DO UPDATE SET response=excluded.response, "
    "created_at=excluded.created_at";
constexpr const char* kExpireIdempotent =  // primary key prefix
    "DELETE FROM idempotency_keys WHERE owner_id=$1 AND created_at<$2";
constexpr const char* kMaxToolCallPosition =  // primary key
    "SELECT coalesce(max(position) + 1, 0) FROM tool_calls WHERE message_id=$1";
constexpr const char* kSetToolCallResult =  // primary key prefix
    "UPDATE tool_calls SET result_json=$1 WHERE message_id=$2 AND call_id=$3";

#define POLARIS_FILE_COLS \
  "id, project_id, parent_id, name, type, content, creation_time, updated_at"
constexpr const char* kInsertFile =
    "INSERT INTO files(" POLARIS_FILE_COLS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8)";
constexpr const char* kGetFile = "SELECT " POLARIS_FILE_COLS " FROM files WHERE id=$1";
constexpr const char* kListFiles =  // index files_by_project
    "SELECT " POLARIS_FILE_COLS " FROM files WHERE project_id=$1 ORDER BY creation_time, seq";
constexpr const char* kListChildren =  // index files_by_parent_name (name sorts bytewise)
    "SELECT " POLARIS_FILE_COLS
    " FROM files WHERE project_id=$1 AND coalesce(parent_id, '')=$2 ORDER BY name";
constexpr const char* kFindChild =  // index files_by_parent_name
    "SELECT " POLARIS_FILE_COLS
    " FROM files WHERE project_id=$1 AND coalesce(parent_id, '')=$2 AND name=$3";
constexpr const char* kListFileMeta =  // index files_by_project; contents stay in TOAST
    "SELECT id, project_id, parent_id, name, type, NULL, creation_time, updated_at FROM files "
    "WHERE project_id=$1 ORDER BY creation_time, seq";
constexpr const char* kProjectUsage =  // primary key; kept by the files_usage trigger
    "SELECT file_nodes, file_bytes FROM projects WHERE id=$1";
constexpr const char* kOwnerBytes =  // index projects_by_owner: one row per project
    "SELECT coalesce(sum(file_bytes), 0)::bigint FROM projects WHERE owner_id=$1";
constexpr const char* kCountProjects =  // index projects_by_owner
    "SELECT count(*) FROM projects WHERE owner_id=$1";
constexpr const char* kCountConversations =  // index conversations_by_project
    "SELECT count(*) FROM conversations WHERE project_id=$1";
constexpr const char* kCountMessages =  // index messages_by_conversation
    "SELECT count(*) FROM messages WHERE conversation_id=$1";
constexpr const char* kUpdateFile =
    "UPDATE files SET parent_id=$1, name=$2, content=$3, updated_at=$4 WHERE id=$5";
constexpr const char* kDeleteFile = "DELETE FROM files WHERE id=$1 RETURNING project_id";

Project ReadProject(const Row& s) {
  return Project{s.Text(0), s.Int(3), s.Text(2), s.Text(1), s.Int(4)};
}
Conversation ReadConversation(const Row& s) {
  return Conversation{s.Text(0), s.Int(3), s.Text(1), s.Text(2), s.Int(4)};
}
FileNode ReadFile(const Row& s) {
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
Message ReadMessageRow(const Row& s) {
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
Run ReadRun(const Row& s) {
  Run r;
  r.id = s.Text(0);
  r.message_id = s.Text(1);
  r.conversation_id = s.Text(2);
  r.project_id = s.Text(3);
  r.owner_id = s.Text(4);
  r.status = ParseRunStatus(s.Text(5)).value_or(RunStatus::kFailed);
  r.attempt = static_cast<int>(s.Int(6));
  r.created_at = s.Int(7);
  r.started_at = s.OptInt(8);
  r.finished_at = s.OptInt(9);
  r.provider = s.OptText(10);
  r.model = s.OptText(11);
  r.error = s.OptText(12);
  r.checkpoint = s.Text(13);
  r.lease_owner = s.Text(14);
  r.lease_expires_at = s.Int(15);
  return r;
}
ToolCall ReadToolCall(const Row& s, int first_col) {
  return ToolCall{s.Text(first_col), s.Text(first_col + 1), s.Text(first_col + 2),
                  s.OptText(first_col + 3)};
}
template <typename T>
std::vector<T> ReadAll(const Result& rows, T (*read)(const Row&)) {
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i) out.push_back(read(rows.row(i)));
  return out;
}
std::optional<std::string> StatusText(const Message& m) {
  if (!m.status) return std::nullopt;
  return std::string(ToString(*m.status));
}
std::optional<std::int64_t> PromptTokens(const Message& m) {
  if (!m.usage) return std::nullopt;
  return m.usage->prompt_tokens;
}
std::optional<std::int64_t> CompletionTokens(const Message& m) {
  if (!m.usage) return std::nullopt;
  return m.usage->completion_tokens;
}
std::string ParentKey(const std::optional<std::string>& parent) {
  return parent.value_or("");
}
// A second processing message in one project can only come from another process that
// checked FindProcessingMessage before this one committed. Reported as "try again": the
// retry finds the message that won and answers as usual (409).
void ThrowIfProcessingConflict(const PgError& e) {
  if (e.sqlstate == "23505" && e.constraint == "messages_processing") {
    throw StoreError("postgres: another message of this project started processing", true);
  }
}

}  // namespace

std::int64_t PgRepo::SingleInt(const char* sql, const std::string& key) {
  auto rows = db_.Query(sql, {key});
  return rows.empty() ? 0 : rows.front().Int(0);
}
bool PgRepo::NoteReturned(const Result& rows, std::string (*topic)(std::string_view)) {
  for (int i = 0; i < rows.rows(); ++i) NoteChange(topic(rows.row(i).Text(0)));
  return !rows.empty();
}

void PgRepo::InsertProject(const Project& p) {
  db_.Query(kInsertProject, {p.id, p.owner_id, p.name, p.creation_time, p.updated_at});
  NoteChange(topics::Projects(p.owner_id));
}
std::optional<Project> PgRepo::GetProject(const std::string& id) {
  auto rows = db_.Query(kGetProject, {id});
  if (rows.empty()) return std::nullopt;
  Project p = ReadProject(rows.front());
  NoteRead(topics::Projects, p.owner_id);
  return p;
}
std::optional<std::string> PgRepo::ProjectOwner(const std::string& id) {
  auto rows = db_.Query(kProjectOwner, {id});
  if (rows.empty()) return std::nullopt;
  return rows.front().Text(0);
}
std::vector<Project> PgRepo::ListProjects(const std::string& owner_id, int limit) {
  NoteRead(topics::Projects, owner_id);
  std::optional<std::int64_t> max_rows;  // NULL: no limit (PostgreSQL rejects SQLite's -1)
  if (limit >= 0) max_rows = limit;
  return ReadAll(db_.Query(kListProjects, {owner_id, max_rows}), ReadProject);
}
void PgRepo::UpdateProject(const std::string& id, const std::string& name, Millis updated_at) {
  NoteReturned(db_.Query(kUpdateProject, {name, updated_at, id}), topics::Projects);
}
void PgRepo::TouchProject(const std::string& id, Millis updated_at) {
  NoteReturned(db_.Query(kTouchProject, {updated_at, id}), topics::Projects);
}
void PgRepo::DeleteProject(const std::string& id) {
  if (auto p = GetProject(id)) {
    NoteChange(topics::Projects(p->owner_id));
    NoteChange(topics::Conversations(id));
    NoteChange(topics::Files(id));
  }
  db_.Query(kDeleteProject, {id});
}

void PgRepo::InsertConversation(const Conversation& c) {
  db_.Query(kInsertConversation, {c.id, c.project_id, c.title, c.creation_time, c.updated_at});
  NoteChange(topics::Conversations(c.project_id));
}
std::optional<Conversation> PgRepo::GetConversation(const std::string& id) {
  auto rows = db_.Query(kGetConversation, {id});
  if (rows.empty()) return std::nullopt;
  Conversation c = ReadConversation(rows.front());
  NoteRead(topics::Conversations, c.project_id);
  return c;
}
std::vector<Conversation> PgRepo::ListConversations(const std::string& project_id) {
  NoteRead(topics::Conversations, project_id);
  return ReadAll(db_.Query(kListConversations, {project_id}), ReadConversation);
}
void PgRepo::UpdateConversationTitle(const std::string& id, const std::string& title,
                                     Millis updated_at) {
  NoteReturned(db_.Query(kUpdateConversationTitle, {title, updated_at, id}), topics::Conversations);
}
void PgRepo::TouchConversation(const std::string& id, Millis updated_at) {
  NoteReturned(db_.Query(kTouchConversation, {updated_at, id}), topics::Conversations);
}

void PgRepo::InsertMessage(const Message& m) {
  try {
    db_.Query(kInsertMessage, {m.id, m.conversation_id, m.project_id, ToString(m.role), m.content,
                               StatusText(m), m.trigger_run_id, m.error, m.model, PromptTokens(m),
                               CompletionTokens(m), m.creation_time});
  } catch (const PgError& e) {
    ThrowIfProcessingConflict(e);
    throw;
  }
  WriteToolCalls(m);
  NoteChange(topics::Messages(m.conversation_id));
}
bool PgRepo::InsertProcessingMessage(const Message& m) {
  auto rows = db_.Query(
      kInsertProcessingMessage,
      {m.id, m.conversation_id, m.project_id, ToString(m.role), m.content, StatusText(m),
       m.trigger_run_id, m.error, m.model, PromptTokens(m), CompletionTokens(m), m.creation_time});
  if (rows.empty()) return false;
  WriteToolCalls(m);
  NoteChange(topics::Messages(m.conversation_id));
  return true;
}
std::optional<Message> PgRepo::GetMessage(const std::string& id) {
  auto rows = db_.Query(kGetMessage, {id});
  if (rows.empty()) return std::nullopt;
  Message m = ReadMessageRow(rows.front());
  NoteRead(topics::Messages, m.conversation_id);
  m.tool_calls = ReadToolCalls(m.id);
  return m;
}
std::vector<Message> PgRepo::ListMessages(const std::string& conversation_id) {
  NoteRead(topics::Messages, conversation_id);
  std::vector<Message> out = ReadAll(db_.Query(kListMessages, {conversation_id}), ReadMessageRow);
  auto calls = db_.Query(kListConversationToolCalls, {conversation_id});
  if (calls.empty()) return out;
  std::unordered_map<std::string, std::vector<ToolCall>> by_message;
  for (int i = 0; i < calls.rows(); ++i) {
    Row row = calls.row(i);
    by_message[row.Text(0)].push_back(ReadToolCall(row, 1));
  }
  for (auto& m : out) {
    if (m.role != Role::kAssistant) continue;
    auto it = by_message.find(m.id);
    if (it != by_message.end()) m.tool_calls = std::move(it->second);
  }
  return out;
}
void PgRepo::UpdateMessage(const Message& m) {
  UpdateMessageFields(m);
  WriteToolCalls(m);
}
std::optional<std::string> PgRepo::FindProcessingMessage(const std::string& project_id) {
  auto rows = db_.Query(kFindProcessing, {project_id});
  if (rows.empty()) return std::nullopt;
  return rows.front().Text(0);
}
void PgRepo::UpdateMessageFields(const Message& m) {
  try {
    db_.Query(kUpdateMessage, {m.content, StatusText(m), m.trigger_run_id, m.error, m.model,
                               PromptTokens(m), CompletionTokens(m), m.id});
  } catch (const PgError& e) {
    ThrowIfProcessingConflict(e);
    throw;
  }
  NoteChange(topics::Messages(m.conversation_id));
}
void PgRepo::AppendToolCalls(const Message& m, const std::vector<ToolCall>& calls) {
  auto next = db_.Query(kMaxToolCallPosition, {m.id});
  InsertToolCalls(m.id, next.empty() ? 0 : next.front().Int(0), calls);
  NoteChange(topics::Messages(m.conversation_id));
}
void PgRepo::SetToolCallResult(const Message& m, const std::string& call_id,
                               const std::string& result_json) {
  db_.Query(kSetToolCallResult, {result_json, m.id, call_id});
  NoteChange(topics::Messages(m.conversation_id));
}
void PgRepo::WriteToolCalls(const Message& m) {
  db_.Query(kDeleteToolCalls, {m.id});
  InsertToolCalls(m.id, 0, m.tool_calls);
}
void PgRepo::InsertToolCalls(const std::string& message_id, std::int64_t first_position,
                             const std::vector<ToolCall>& calls) {
  std::int64_t pos = first_position;
  for (const auto& tc : calls) {
    db_.Query(kInsertToolCall, {message_id, pos++, tc.id, tc.name, tc.args_json, tc.result_json});
  }
}
std::vector<ToolCall> PgRepo::ReadToolCalls(const std::string& message_id) {
  auto rows = db_.Query(kListToolCalls, {message_id});
  std::vector<ToolCall> out;
  for (int i = 0; i < rows.rows(); ++i) out.push_back(ReadToolCall(rows.row(i), 0));
  return out;
}

bool PgRepo::UpdateContentIfCurrent(const std::string& message_id, const std::string& run_id,
                                    int attempt, const std::string& content) {
  auto rows = db_.Query(kUpdateContentIfCurrent, {content, message_id, run_id, attempt});
  if (rows.empty()) return false;
  NoteChange(topics::MessageContent(rows.front().Text(0), message_id));
  return true;
}

std::vector<std::string> PgRepo::ListProcessingMessages() {
  auto rows = db_.Query(kListProcessing);
  std::vector<std::string> out;
  for (int i = 0; i < rows.rows(); ++i) out.push_back(rows.row(i).Text(0));
  return out;
}

void PgRepo::InsertRun(const Run& r) {
  db_.Query(kInsertRun,
            {r.id, r.message_id, r.conversation_id, r.project_id, r.owner_id, ToString(r.status),
             r.attempt, r.created_at, r.started_at, r.finished_at, r.provider, r.model, r.error,
             r.checkpoint, r.lease_owner, r.lease_expires_at});
}
std::optional<Run> PgRepo::GetRun(const std::string& id) {
  auto rows = db_.Query(lock_rows_ ? kGetRunForUpdate : kGetRun, {id});
  if (rows.empty()) return std::nullopt;
  return ReadRun(rows.front());
}
void PgRepo::UpdateRun(const Run& r) {
  db_.Query(kUpdateRun, {ToString(r.status), r.attempt, r.started_at, r.finished_at, r.provider,
                         r.model, r.error, r.checkpoint, r.lease_owner, r.lease_expires_at, r.id});
  // Processes executing the run hear of its cancel through this topic.
  if (r.status == RunStatus::kCancelled) NoteChange(topics::RunCancelled(r.id));
}
std::vector<std::string> PgRepo::RenewRunLeases(const std::string& owner,
                                                const std::vector<std::string>& run_ids,
                                                Millis expires_at) {
  json::array ids;
  for (const auto& id : run_ids) ids.emplace_back(id);
  auto rows = db_.Query(kRenewRunLeases, {expires_at, owner, json::serialize(ids)});
  std::vector<std::string> out;
  for (int i = 0; i < rows.rows(); ++i) out.push_back(rows.row(i).Text(0));
  return out;
}
bool PgRepo::HasExpiredRuns(Millis now) {
  return !db_.Query(kHasExpiredRuns, {now}).empty();
}
std::vector<Run> PgRepo::TakeExpiredRuns(const std::string& owner, Millis now, Millis expires_at,
                                         int limit) {
  return ReadAll(db_.Query(kTakeExpiredRuns, {owner, expires_at, now, limit}), ReadRun);
}
std::optional<std::string> PgRepo::GetMutationAnswer(const MutationKey& key, Millis not_before) {
  auto rows =
      db_.Query(kGetMutationAnswer, {key.owner, key.slot, key.session, key.request_id, not_before});
  if (rows.empty()) return std::nullopt;
  return rows.front().Text(0);
}
void PgRepo::PutMutationAnswer(const MutationKey& key, const std::string& response, Millis now) {
  db_.Query(kPutMutationAnswer, {key.owner, key.slot, key.session, key.request_id, response, now});
}
std::vector<Run> PgRepo::ListUnfinishedRuns() {
  return ReadAll(db_.Query(kListUnfinishedRuns), ReadRun);
}
int PgRepo::CountActiveRuns(const std::string& owner_id) {
  return static_cast<int>(SingleInt(kCountActiveRuns, owner_id));
}
std::optional<std::string> PgRepo::GetIdempotentResponse(const std::string& user,
                                                         const std::string& key,
                                                         Millis not_before) {
  auto rows = db_.Query(kGetIdempotent, {user, key, not_before});
  if (rows.empty()) return std::nullopt;
  return rows.front().Text(0);
}
void PgRepo::PutIdempotentResponse(const std::string& user, const std::string& key,
                                   const std::string& response, Millis now, Millis not_before) {
  db_.Query(kExpireIdempotent, {user, not_before});
  db_.Query(kPutIdempotent, {user, key, response, now});
}

void PgRepo::InsertFile(const FileNode& f) {
  db_.Query(kInsertFile, {f.id, f.project_id, f.parent_id, f.name, ToString(f.type), f.content,
                          f.creation_time, f.updated_at});
  NoteChange(topics::Files(f.project_id));
}
std::optional<FileNode> PgRepo::GetFile(const std::string& id) {
  auto rows = db_.Query(kGetFile, {id});
  if (rows.empty()) return std::nullopt;
  FileNode f = ReadFile(rows.front());
  NoteRead(topics::Files, f.project_id);
  return f;
}
std::vector<FileNode> PgRepo::ListFiles(const std::string& project_id) {
  NoteRead(topics::Files, project_id);
  return ReadAll(db_.Query(kListFiles, {project_id}), ReadFile);
}
std::vector<FileNode> PgRepo::ListFileMeta(const std::string& project_id) {
  NoteRead(topics::Files, project_id);
  return ReadAll(db_.Query(kListFileMeta, {project_id}), ReadFile);
}
Repo::Usage PgRepo::ProjectUsage(const std::string& project_id) {
  NoteRead(topics::Files, project_id);
  auto rows = db_.Query(kProjectUsage, {project_id});
  if (rows.empty()) return {};
  return Usage{rows.front().Int(0), rows.front().Int(1)};
}
std::int64_t PgRepo::OwnerBytes(const std::string& owner_id) {
  return SingleInt(kOwnerBytes, owner_id);
}
int PgRepo::CountConversations(const std::string& project_id) {
  NoteRead(topics::Conversations, project_id);
  return static_cast<int>(SingleInt(kCountConversations, project_id));
}
int PgRepo::CountMessages(const std::string& conversation_id) {
  NoteRead(topics::Messages, conversation_id);
  return static_cast<int>(SingleInt(kCountMessages, conversation_id));
}
int PgRepo::CountProjects(const std::string& owner_id) {
  NoteRead(topics::Projects, owner_id);
  return static_cast<int>(SingleInt(kCountProjects, owner_id));
}
std::vector<FileNode> PgRepo::ListChildren(const std::string& project_id,
                                           const std::optional<std::string>& parent_id) {
  NoteRead(topics::Files, project_id);
  return ReadAll(db_.Query(kListChildren, {project_id, ParentKey(parent_id)}), ReadFile);
}
std::optional<FileNode> PgRepo::FindChild(const std::string& project_id,
                                          const std::optional<std::string>& parent_id,
                                          const std::string& name) {
  NoteRead(topics::Files, project_id);
  auto rows = db_.Query(kFindChild, {project_id, ParentKey(parent_id), name});
  if (rows.empty()) return std::nullopt;
  return ReadFile(rows.front());
}
void PgRepo::UpdateFile(const FileNode& f) {
  db_.Query(kUpdateFile, {f.parent_id, f.name, f.content, f.updated_at, f.id});
  NoteChange(topics::Files(f.project_id));
}
void PgRepo::DeleteFile(const std::string& id) {
  NoteReturned(db_.Query(kDeleteFile, {id}), topics::Files);
}

}  // namespace polaris::pg
