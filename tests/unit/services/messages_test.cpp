// Posting messages: Idempotency-Key replay, 422 for another body, expiry after 24 h, and the
// per-user and per-conversation caps.
#include "services/messages.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <utility>

#include "../support/forwarding_repo.h"
#include "domain/limits.h"
#include "services_test_util.h"

namespace polaris::services {
namespace {

class ServicesMessages : public services_test::ServicesFixture {
 protected:
  void SetUp() override {
    ServicesFixture::SetUp();
    saved_ = CurrentLimits();
    project_ = MakeProject(kAlice);
    conversation_ = MakeConversation(kAlice, project_.id);
  }
  void TearDown() override {
    SetLimits(saved_);
    ServicesFixture::TearDown();
  }
  // Lets the next POST into the project run: the previous one is no longer processing.
  void Finish(const PostedMessage& p) {
    auto m = repo().GetMessage(p.message_id);
    ASSERT_TRUE(m);
    m->status = MessageStatus::kCompleted;
    repo().UpdateMessage(*m);
    auto r = repo().GetRun(p.run_id);
    ASSERT_TRUE(r);
    r->status = RunStatus::kCompleted;
    repo().UpdateRun(*r);
  }
  Limits saved_;
  Project project_;
  Conversation conversation_;
};

constexpr Millis kHour = 3600 * 1000;

TEST_F(ServicesMessages, IdempotencyKeyReplaysTheSameBodyAndRefusesAnother) {
  const Millis t0 = 1'000'000;
  auto first = PostMessage(repo(), kAlice, conversation_.id, "hello", "key-1", t0);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto again = PostMessage(repo(), kAlice, conversation_.id, "hello", "key-1", t0 + 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->message_id, first->message_id);
  auto other = PostMessage(repo(), kAlice, conversation_.id, "hello!", "key-1", t0 + 2000);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kUnprocessable);
}

TEST_F(ServicesMessages, IdempotencyKeysExpireAfter24Hours) {
  const Millis t0 = 1'000'000;
  auto first = PostMessage(repo(), kAlice, conversation_.id, "hello", "key-2", t0);
  ASSERT_TRUE(first.ok());
  Finish(*first);
  auto later = PostMessage(repo(), kAlice, conversation_.id, "hello", "key-2", t0 + 25 * kHour);
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_FALSE(later->replayed) << "an expired key starts a new message";
  EXPECT_NE(later->message_id, first->message_id);
}

TEST_F(ServicesMessages, ActiveRunsPerUserAreCapped) {
  Limits l = saved_;
  l.max_active_runs_per_user = 2;
  SetLimits(l);
  for (int i = 0; i < 2; ++i) {
    auto p = MakeProject(kAlice, "P" + std::to_string(i));
    auto c = MakeConversation(kAlice, p.id);
    ASSERT_TRUE(PostMessage(repo(), kAlice, c.id, "go", std::nullopt, 1000).ok());
  }
  auto third = PostMessage(repo(), kAlice, conversation_.id, "go", std::nullopt, 1000);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kRateLimited);
  EXPECT_GE(third.error().retry_after_seconds, 1);
  auto bobs_project = MakeProject(kBob);
  auto bobs = MakeConversation(kBob, bobs_project.id);
  EXPECT_TRUE(PostMessage(repo(), kBob, bobs.id, "go", std::nullopt, 1000).ok());
}

TEST_F(ServicesMessages, AdmissionIsAskedOnlyForAPostThatStartsARun) {
  int asked = 0;
  auto refuse = [&]() -> Status {
    ++asked;
    return Error{ErrorCode::kRateLimited, "slow down", {}};
  };
  auto first = PostMessage(repo(), kAlice, conversation_.id, "hello", std::nullopt, 1000);
  ASSERT_TRUE(first.ok());
  auto busy = PostMessage(repo(), kAlice, conversation_.id, "more", std::nullopt, 1000, refuse);
  EXPECT_EQ(busy.error().code, ErrorCode::kConflict) << "409 first: a busy project costs nothing";
  EXPECT_EQ(asked, 0);
  Finish(*first);
  auto refused = PostMessage(repo(), kAlice, conversation_.id, "more", std::nullopt, 1000, refuse);
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(asked, 1);
}

// Another process posts into the same project between PostMessage's check for a processing
// message and its own insert (two PostgreSQL processes): the check saw nothing, the database
// refuses the second processing message.
class RacingRepo : public test_support::ForwardingRepo {
 public:
  using ForwardingRepo::ForwardingRepo;
  std::function<void(Repo&)> rival;  // runs once, right after a check that found nothing
  std::optional<std::string> FindProcessingMessage(const std::string& project_id) override {
    auto found = inner_.FindProcessingMessage(project_id);
    if (!found && rival) std::exchange(rival, nullptr)(inner_);
    return found;
  }
};

TEST_F(ServicesMessages, LosingTheRaceToAnotherProcessIsA409NamingTheWinner) {
  auto other = MakeConversation(kAlice, project_.id);
  RacingRepo racing(repo());
  std::optional<PostedMessage> winner;
  racing.rival = [&](Repo& inner) {
    auto w = PostMessage(inner, kAlice, other.id, "theirs", std::nullopt, 1000);
    ASSERT_TRUE(w.ok()) << w.error().message;
    winner = *w;
  };
  auto lost = PostMessage(racing, kAlice, conversation_.id, "mine", std::nullopt, 1000);
  ASSERT_TRUE(winner) << "the race did not happen";
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, ErrorCode::kConflict);
  std::map<std::string, std::string> fields(lost.error().fields.begin(), lost.error().fields.end());
  EXPECT_EQ(fields["messageId"], winner->message_id);
  EXPECT_EQ(fields["conversationId"], other.id) << "the client is told where the run is";
  EXPECT_EQ(*repo().FindProcessingMessage(project_.id), winner->message_id);
}

// The same request sent twice with one Idempotency-Key, each copy to another process: the one
// that loses the race answers the winner's ids instead of a 409.
TEST_F(ServicesMessages, LosingTheRaceToYourOwnRetryReplaysItsAnswer) {
  RacingRepo racing(repo());
  std::optional<PostedMessage> twin;
  racing.rival = [&](Repo& inner) {
    auto w = PostMessage(inner, kAlice, conversation_.id, "hello", "retry-key", 1000);
    ASSERT_TRUE(w.ok()) << w.error().message;
    twin = *w;
  };
  auto mine = PostMessage(racing, kAlice, conversation_.id, "hello", "retry-key", 1000);
  ASSERT_TRUE(twin) << "the race did not happen";
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  EXPECT_TRUE(mine->replayed) << "the caller must roll back what this attempt wrote";
  EXPECT_EQ(mine->message_id, twin->message_id);
  EXPECT_EQ(mine->run_id, twin->run_id);
}

// A cancel keeps what watchers were shown when it extends the stored text (the store lags
// the live stream by up to one flush); text that does not extend it is not taken.
TEST_F(ServicesMessages, CancelKeepsTheTextAlreadyShown) {
  auto posted = PostMessage(repo(), kAlice, conversation_.id, "hello", std::nullopt, 1000);
  ASSERT_TRUE(posted.ok());
  auto m = repo().GetMessage(posted->message_id);
  m->content = "Hello";
  repo().UpdateMessage(*m);
  ASSERT_TRUE(CancelMessage(repo(), kAlice, m->id, 2000, std::string("Hello, wor")).ok());
  EXPECT_EQ(repo().GetMessage(m->id)->content, "Hello, wor");
  EXPECT_EQ(repo().GetMessage(m->id)->status, MessageStatus::kCancelled);

  Finish(*posted);
  auto second = PostMessage(repo(), kAlice, conversation_.id, "again", std::nullopt, 3000);
  ASSERT_TRUE(second.ok());
  m = repo().GetMessage(second->message_id);
  m->content = "Stored text";
  repo().UpdateMessage(*m);
  ASSERT_TRUE(CancelMessage(repo(), kAlice, m->id, 4000, std::string("Other")).ok());
  EXPECT_EQ(repo().GetMessage(m->id)->content, "Stored text");
  // Another user's cancel is refused before anything is read from `shown`.
  EXPECT_FALSE(CancelMessage(repo(), kBob, m->id, 5000, std::string("Stored text!")).ok());
}

}  // namespace
}  // namespace polaris::services
