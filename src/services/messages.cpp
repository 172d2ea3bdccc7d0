#include "services/messages.h"

#include <cstdio>

#include "domain/hash.h"
#include "domain/ids.h"
#include "domain/limits.h"
#include "domain/run_lease.h"
#include "domain/text.h"
#include "services/access.h"
#include "services/conversations.h"

namespace polaris::services {
namespace {
// Idempotent answers are stored as "<runId> <messageId> <request fingerprint>"; ids never
// contain spaces. Answers recorded before fingerprints existed have two fields.
std::string EncodeAnswer(const PostedMessage& p, const std::string& fingerprint) {
  return p.run_id + " " + p.message_id + " " + fingerprint;
}
struct StoredAnswer {
  PostedMessage posted;
  std::optional<std::string> fingerprint;
};
std::optional<StoredAnswer> DecodeAnswer(const std::string& s) {
  auto sp = s.find(' ');
  if (sp == std::string::npos) return std::nullopt;
  auto sp2 = s.find(' ', sp + 1);
  StoredAnswer a{{s.substr(0, sp), s.substr(sp + 1, sp2 - sp - 1), true, false}, std::nullopt};
  if (sp2 != std::string::npos) a.fingerprint = s.substr(sp2 + 1);
  return a;
}
// FNV-1a over the request's fields: tells a replay from a different request under the same
// key (a key is per user, so this guards mistakes, not attacks).
std::string Fingerprint(const std::string& conversation_id, const std::string& text) {
  constexpr std::string_view kSeparator = "\xFF";  // after each field
  const std::uint64_t h =
      Fnv1a().Add(conversation_id).Add(kSeparator).Add(text).Add(kSeparator).value();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}
}  // namespace

Status ValidateMessageText(const std::string& text) {
  if (IsBlank(text)) return Error::BadRequest("Message must not be empty");
  if (CountCodePoints(text) > kMaxMessageChars) {
    return Error::BadRequest("Message is too long (at most 100,000 characters)");
  }
  return Ok();
}

Result<PostedMessage> PostMessage(Repo& repo, const std::string& user,
                                  const std::string& conversation_id, const std::string& text,
                                  const std::optional<std::string>& idempotency_key, Millis now,
                                  const Admission& admit) {
  if (auto st = CheckId(conversation_id, Table::kConversation, "conversationId"); !st) {
    return st.error();
  }
  if (auto st = ValidateMessageText(text); !st) return st.error();
  const Millis key_not_before = now - CurrentLimits().idempotency_ttl_ms;
  const std::string fingerprint = Fingerprint(conversation_id, text);
  // The first answer to this Idempotency-Key, if any. Asked again when the project is busy:
  // the same request racing on another process makes its message and its key visible in one
  // commit, so this one gets the same answer instead of a 409.
  auto replay = [&]() -> std::optional<Result<PostedMessage>> {
    if (!idempotency_key) return std::nullopt;
    auto prev = repo.GetIdempotentResponse(user, *idempotency_key, key_not_before);
    if (!prev) return std::nullopt;
    auto answer = DecodeAnswer(*prev);
    if (!answer) return std::nullopt;
    if (answer->fingerprint && *answer->fingerprint != fingerprint) {
      return Error{
          ErrorCode::kUnprocessable, "Idempotency-Key was used with a different request body", {}};
    }
    return answer->posted;
  };
  if (auto same = replay()) return std::move(*same);
  auto conv = OwnedConversation(repo, user, conversation_id);
  if (!conv) return conv.error();
  if (auto busy = repo.FindProcessingMessage(conv->project_id)) {
    if (auto same = replay()) return std::move(*same);
    // The running message may be in another conversation of the project: say which, so a
    // client can take the user there.
    auto running = repo.GetMessage(*busy);
    auto error = Error::Conflict("A message is already being processed").With("messageId", *busy);
    if (running) error.fields.emplace_back("conversationId", running->conversation_id);
    return error;
  }
  // A POST adds two messages; history beyond the limit would only grow every later prompt.
  const int max_messages = CurrentLimits().max_messages_per_conversation;
  if (repo.CountMessages(conversation_id) + 2 > max_messages) {
    return LimitError(ErrorCode::kConflict,
                      "This conversation is full (at most " + std::to_string(max_messages) +
                          " messages); start a new conversation",
                      "messages_per_conversation");
  }
  // One run per project, but projects are many: the user's runs waiting or running are
  // capped too, so one account cannot queue unbounded AI spend.
  const int max_runs = CurrentLimits().max_active_runs_per_user;
  if (repo.CountActiveRuns(user) >= max_runs) {
    return LimitError(ErrorCode::kRateLimited,
                      "Too many messages in progress: at most " + std::to_string(max_runs) +
                          " per user; wait for one to finish",
                      "active_runs_per_user", 5);
  }
  if (admit) {
    if (auto st = admit(); !st) return st.error();
  }

  Message user_msg;
  user_msg.id = NewId(Table::kMessage);
  user_msg.creation_time = now;
  user_msg.conversation_id = conversation_id;
  user_msg.project_id = conv->project_id;
  user_msg.role = Role::kUser;
  user_msg.content = text;
  repo.InsertMessage(user_msg);

  Run run;
  run.id = NewId(Table::kRun);
  Message reply;
  reply.id = NewId(Table::kMessage);
  reply.creation_time = now;
  reply.conversation_id = conversation_id;
  reply.project_id = conv->project_id;
  reply.role = Role::kAssistant;
  reply.status = MessageStatus::kProcessing;
  reply.trigger_run_id = run.id;
  if (!repo.InsertProcessingMessage(reply)) {
    // Another process started a message in this project since the check above.
    if (auto same = replay()) return std::move(*same);
    auto error = Error::Conflict("A message is already being processed");
    if (auto busy = repo.FindProcessingMessage(conv->project_id)) {
      error.fields.emplace_back("messageId", *busy);
      if (auto running = repo.GetMessage(*busy)) {
        error.fields.emplace_back("conversationId", running->conversation_id);
      }
    }
    return error;
  }

  run.message_id = reply.id;
  run.conversation_id = conversation_id;
  run.project_id = conv->project_id;
  run.owner_id = user;
  run.status = RunStatus::kQueued;
  run.created_at = now;
  HoldLease(run, now);  // this process executes it, unless it dies first
  repo.InsertRun(run);
  repo.TouchConversation(conversation_id, now);

  PostedMessage posted{run.id, reply.id, false, conv->title == kDefaultConversationTitle};
  if (idempotency_key) {
    repo.PutIdempotentResponse(user, *idempotency_key, EncodeAnswer(posted, fingerprint), now,
                               key_not_before);
  }
  return posted;
}

Result<CancelOutcome> CancelMessage(Repo& repo, const std::string& user,
                                    const std::string& message_id, Millis now,
                                    const std::optional<std::string>& shown) {
  auto msg = OwnedMessage(repo, user, message_id);
  if (!msg) return msg.error();
  if (msg->status == MessageStatus::kCancelled) return CancelOutcome{};
  if (msg->status != MessageStatus::kProcessing) {
    Error err = Error::Conflict("Message is not being processed");
    if (msg->status) err.fields.emplace_back("status", ToString(*msg->status));
    return err;
  }
  // The run first, then the message, in the order the agent's writes take them: with several
  // processes on PostgreSQL, reading the run in a write locks it until commit, so the cancel
  // and a step of the run (maybe on another process) follow one another, never deadlock, and
  // the message is read again after the lock, as the last step left it.
  std::optional<Run> run;
  if (msg->trigger_run_id) {
    run = repo.GetRun(*msg->trigger_run_id);
    msg = OwnedMessage(repo, user, message_id);
    if (!msg) return msg.error();
    if (msg->status != MessageStatus::kProcessing) return CancelOutcome{};
  }
  msg->status = MessageStatus::kCancelled;
  if (shown && shown->size() > msg->content.size() && shown->starts_with(msg->content)) {
    msg->content = *shown;
  }
  if (msg->content.empty()) msg->content = kCancelledContent;
  repo.UpdateMessage(*msg);
  repo.TouchConversation(msg->conversation_id, now);
  CancelOutcome out;
  if (run) {
    if (run->status == RunStatus::kQueued || run->status == RunStatus::kExecuting) {
      run->status = RunStatus::kCancelled;
      run->finished_at = now;
      repo.UpdateRun(*run);
    }
    out.run_id = run->id;
  }
  return out;
}

Result<Run> GetRunForUser(Repo& repo, const std::string& user, const std::string& run_id) {
  if (auto st = CheckId(run_id, Table::kRun, "runId"); !st) return st.error();
  auto run = repo.GetRun(run_id);
  if (!run || run->owner_id != user) return Error::NotFound("Run not found");
  return *run;
}

}  // namespace polaris::services
