#include "services/messages.h"

#include "domain/ids.h"
#include "domain/text.h"
#include "services/access.h"
#include "services/conversations.h"

namespace polaris::services {
namespace {
// Idempotent answers are stored as "<runId> <messageId>"; ids never contain spaces.
std::string EncodeAnswer(const PostedMessage& p) {
  return p.run_id + " " + p.message_id;
}
std::optional<PostedMessage> DecodeAnswer(const std::string& s) {
  auto sp = s.find(' ');
  if (sp == std::string::npos) return std::nullopt;
  return PostedMessage{s.substr(0, sp), s.substr(sp + 1), true, false};
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
                                  const std::optional<std::string>& idempotency_key, Millis now) {
  if (auto st = CheckId(conversation_id, Table::kConversation, "conversationId"); !st) {
    return st.error();
  }
  if (auto st = ValidateMessageText(text); !st) return st.error();
  if (idempotency_key) {
    if (auto prev = repo.GetIdempotentResponse(user, *idempotency_key)) {
      if (auto answer = DecodeAnswer(*prev)) return *answer;
    }
  }
  auto conv = OwnedConversation(repo, user, conversation_id);
  if (!conv) return conv.error();
  if (auto busy = repo.FindProcessingMessage(conv->project_id)) {
    return Error::Conflict("A message is already being processed").With("messageId", *busy);
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
  repo.InsertMessage(reply);

  run.message_id = reply.id;
  run.conversation_id = conversation_id;
  run.project_id = conv->project_id;
  run.owner_id = user;
  run.status = RunStatus::kQueued;
  run.created_at = now;
  repo.InsertRun(run);
  repo.TouchConversation(conversation_id, now);

  PostedMessage posted{run.id, reply.id, false, conv->title == kDefaultConversationTitle};
  if (idempotency_key)
    repo.PutIdempotentResponse(user, *idempotency_key, EncodeAnswer(posted), now);
  return posted;
}

Result<CancelOutcome> CancelMessage(Repo& repo, const std::string& user,
                                    const std::string& message_id, Millis now) {
  auto msg = OwnedMessage(repo, user, message_id);
  if (!msg) return msg.error();
  if (msg->status == MessageStatus::kCancelled) return CancelOutcome{};
  if (msg->status != MessageStatus::kProcessing) {
    Error err = Error::Conflict("Message is not being processed");
    if (msg->status) err.fields.emplace_back("status", ToString(*msg->status));
    return err;
  }
  msg->status = MessageStatus::kCancelled;
  if (msg->content.empty()) msg->content = kCancelledContent;
  repo.UpdateMessage(*msg);
  repo.TouchConversation(msg->conversation_id, now);
  CancelOutcome out;
  if (msg->trigger_run_id) {
    if (auto run = repo.GetRun(*msg->trigger_run_id)) {
      if (run->status == RunStatus::kQueued || run->status == RunStatus::kExecuting) {
        run->status = RunStatus::kCancelled;
        run->finished_at = now;
        repo.UpdateRun(*run);
      }
      out.run_id = run->id;
    }
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
