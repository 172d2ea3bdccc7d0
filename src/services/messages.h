#pragma once
// Posting and cancelling messages, and reading runs: the transactional halves of the
// Messages API. The run itself is executed by runs/ and agent/.
#include <functional>
#include <optional>
#include <string>

#include "domain/result.h"
#include "store/repo.h"

namespace polaris::services {

constexpr std::size_t kMaxMessageChars = 100000;
inline constexpr const char* kCancelledContent = "Message was cancelled.";

struct PostedMessage {
  std::string run_id;
  std::string message_id;    // the assistant message
  bool replayed = false;     // answered from an earlier request with the same Idempotency-Key
  bool wants_title = false;  // the conversation still has the default title
};

// 400 for blank text or more than 100,000 code points.
Status ValidateMessageText(const std::string& text);

// Asked once a POST would really start a run (not a replay, not a 409): the caller's rate
// limit, which may refuse with its error.
using Admission = std::function<Status()>;

// One atomic step: the project-wide "already processing" check (409), the user's active-run
// cap (429), admission, the user message, the assistant placeholder, its queued run, and the
// conversation's updatedAt.
Result<PostedMessage> PostMessage(Repo& repo, const std::string& user,
                                  const std::string& conversation_id, const std::string& text,
                                  const std::optional<std::string>& idempotency_key, Millis now,
                                  const Admission& admit = {});

struct CancelOutcome {
  std::optional<std::string> run_id;  // the run to stop, when the message was processing
};
// processing -> cancelled (content kept, or "Message was cancelled."); cancelled -> ok again;
// anything else -> 409 with the message's status. `shown` is the text watchers were already
// sent (the live tail, ahead of the throttled store): kept when it extends the stored text,
// so a cancel never takes back words the user saw.
Result<CancelOutcome> CancelMessage(Repo& repo, const std::string& user,
                                    const std::string& message_id, Millis now,
                                    const std::optional<std::string>& shown = std::nullopt);

Result<Run> GetRunForUser(Repo& repo, const std::string& user, const std::string& run_id);

}  // namespace polaris::services
