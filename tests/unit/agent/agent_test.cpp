// The agent loop against a scripted provider and a real store: steps, tool calls, resume
// without running a tool twice, fencing, failures, and the loop's bounds.
#include "agent/agent.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>

#include "agent_fixture.h"
#include "domain/clock.h"

namespace polaris::agent_test {
namespace {
namespace json = boost::json;
using agent::RunOutcome;
using providers::Failure;
using providers_test::ScriptedStep;

using AgentTest = AgentFixture;

// The tool messages a request carried: {tool_call_id: content}.
std::map<std::string, std::string> ToolMessages(const providers::StepRequest& req) {
  std::map<std::string, std::string> out;
  for (const auto& m : req.messages) {
    const auto& o = m.as_object();
    if (o.at("role").as_string() == "tool") {
      out[std::string(o.at("tool_call_id").as_string())] = std::string(o.at("content").as_string());
    }
  }
  return out;
}

TEST_F(AgentTest, TheAnswerStreamsIntoTheMessageAndCompletesIt) {
  auto p = Post("Say hello");
  streamer_.AddText({"Hel", "lo ", "there"});
  EXPECT_EQ(Execute(p.run_id), RunOutcome::kCompleted);
  auto m = MessageOf(p.message_id);
  EXPECT_EQ(m.status, MessageStatus::kCompleted);
  EXPECT_EQ(m.content, "Hello there");
  EXPECT_EQ(m.model, "model-1");
  auto r = RunOf(p.run_id);
  EXPECT_EQ(r.status, RunStatus::kCompleted);
  EXPECT_EQ(r.attempt, 1);
  EXPECT_EQ(r.provider, "first");
  // The request carried the system prompt, then the user's message.
  ASSERT_EQ(streamer_.seen().size(), 1u);
  const auto& msgs = streamer_.seen()[0].request.messages;
  ASSERT_GE(msgs.size(), 2u);
  EXPECT_EQ(msgs.front().as_object().at("role").as_string(), "system");
  EXPECT_EQ(msgs.back().as_object().at("content").as_string(), "Say hello");
  EXPECT_FALSE(streamer_.seen()[0].request.tools.empty()) << "the tools are offered";
}

TEST_F(AgentTest, AToolCallRunsOnceAndTheNextStepSeesItsResult) {
  auto p = Post("Write notes");
  streamer_.AddCall("call_1", "write_file", R"({"path":"notes.txt","content":"v1"})");
  streamer_.AddText({"Wrote it."});
  EXPECT_EQ(Execute(p.run_id), RunOutcome::kCompleted);
  EXPECT_EQ(FileContent(p.project_id, "notes.txt"), "v1");
  auto m = MessageOf(p.message_id);
  EXPECT_EQ(m.content, "Wrote it.");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].id, "call_1");
  EXPECT_EQ(m.tool_calls[0].name, "write_file");
  ASSERT_TRUE(m.tool_calls[0].result_json);
  EXPECT_TRUE(json::parse(*m.tool_calls[0].result_json).as_object().at("success").as_bool());
  ASSERT_EQ(streamer_.seen().size(), 2u);
  auto tools = ToolMessages(streamer_.seen()[1].request);
  ASSERT_EQ(tools.size(), 1u);
  EXPECT_EQ(tools.begin()->first, "call_1");
}

TEST_F(AgentTest, AResumedRunDoesNotRunARecordedToolCallAgain) {
  auto p = Post("Write notes, then explain");
  streamer_.AddCall("call_1", "write_file", R"({"path":"notes.txt","content":"v1"})");
  // The second step is interrupted (a shutdown) after its first words.
  ScriptedStep interrupted;
  interrupted.chunks = {"Now I ", "will never finish"};
  interrupted.mid_stream = [this]() -> asio::awaitable<void> {
    StopRun(CancelReason::kShutdown);
    co_return;
  };
  streamer_.Add(std::move(interrupted));
  EXPECT_EQ(Execute(p.run_id), RunOutcome::kStopped);
  EXPECT_EQ(RunOf(p.run_id).status, RunStatus::kExecuting) << "left for the next attempt";
  // Someone edits the file meanwhile: running write_file again would undo it.
  Write([&](Repo& repo) {
    for (auto f : repo.ListFiles(p.project_id)) {
      if (f.name != "notes.txt") continue;
      f.content = "edited by the user";
      repo.UpdateFile(f);
    }
  });
  streamer_.AddText({"Done."});
  EXPECT_EQ(Execute(p.run_id), RunOutcome::kCompleted);
  EXPECT_EQ(FileContent(p.project_id, "notes.txt"), "edited by the user")
      << "the recorded tool call ran again on resume";
  auto m = MessageOf(p.message_id);
  EXPECT_EQ(m.status, MessageStatus::kCompleted);
  EXPECT_EQ(m.content, "Done.") << "the interrupted step's partial text is dropped";
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(RunOf(p.run_id).attempt, 2);
  // The resumed step was told the recorded result, once.
  ASSERT_EQ(streamer_.seen().size(), 3u);
  EXPECT_EQ(ToolMessages(streamer_.seen()[2].request).count("call_1"), 1u);
}

TEST_F(AgentTest, ACancelledMessageFencesTheRunOut) {
  auto p = Post("Talk for long");
  ScriptedStep long_answer;
  long_answer.chunks = {"first ", "second ", "third"};
  long_answer.mid_stream = [this, &p]() -> asio::awaitable<void> {
    Store::WriteJob cancel = [&](Repo& repo) {
      return services::CancelMessage(repo, kUser, p.message_id, 2000).ok();
    };
    co_await db_->Write(std::move(cancel));
  };
  streamer_.Add(std::move(long_answer));
  EXPECT_EQ(Execute(p.run_id), RunOutcome::kFencedOut);
  auto m = MessageOf(p.message_id);
  EXPECT_EQ(m.status, MessageStatus::kCancelled);
  EXPECT_EQ(m.content.find("third"), std::string::npos)
      << "written after the cancel: " << m.content;
  EXPECT_EQ(RunOf(p.run_id).status, RunStatus::kCancelled);
}

TEST_F(AgentTest, AProviderFailureFailsTheMessageAndKeepsWhatStreamed) {
  auto p = Post("Fail please");
  streamer_.AddFailure(Failure::kFatal, "first returned HTTP 401: bad key", {"partial "});
  EXPECT_EQ(Execute(p.run_id), RunOutcome::kFailed);
  auto m = MessageOf(p.message_id);
  EXPECT_EQ(m.status, MessageStatus::kFailed);
  EXPECT_EQ(m.error, "first returned HTTP 401: bad key");
  EXPECT_EQ(m.content, "partial ");
  auto r = RunOf(p.run_id);
  EXPECT_EQ(r.status, RunStatus::kFailed);
  EXPECT_EQ(r.error, "first returned HTTP 401: bad key");
}

TEST_F(AgentTest, WithoutAProviderTheRunFailsAtOnceSayingSo) {
  chain_config_.providers.clear();
  auto p = Post("Anyone there?");
  EXPECT_EQ(Execute(p.run_id), RunOutcome::kFailed);
  auto m = MessageOf(p.message_id);
  EXPECT_EQ(m.status, MessageStatus::kFailed);
  EXPECT_EQ(m.error, providers::ProviderChain::kNoProviderError);
  EXPECT_TRUE(streamer_.seen().empty());
}

TEST_F(AgentTest, BrokenToolArgumentsGiveAnErrorResultAndTheRunGoesOn) {
  auto p = Post("Break the arguments");
  streamer_.AddCall("call_bad", "write_file", R"({"path": "x.txt", "content": )");
  streamer_.AddText({"Sorry about that."});
  EXPECT_EQ(Execute(p.run_id), RunOutcome::kCompleted);
  auto m = MessageOf(p.message_id);
  ASSERT_EQ(m.tool_calls.size(), 1u);
  ASSERT_TRUE(m.tool_calls[0].result_json);
  auto result = json::parse(*m.tool_calls[0].result_json).as_object();
  EXPECT_FALSE(result.at("success").as_bool());
  EXPECT_FALSE(result.at("error").as_string().empty());
  // The arguments are recorded as the text the model sent (they are not JSON).
  EXPECT_EQ(json::parse(m.tool_calls[0].args_json).as_string(), R"({"path": "x.txt", "content": )");
  EXPECT_EQ(FileContent(p.project_id, "x.txt"), std::nullopt);
  EXPECT_EQ(m.content, "Sorry about that.");
}

TEST_F(AgentTest, TheSameCallRepeatedStopsTheLoop) {
  config_.repeat_limit = 3;
  auto p = Post("Loop forever");
  for (int i = 0; i < 5; ++i) streamer_.AddCall("c" + std::to_string(i), "list_files", "{}");
  EXPECT_EQ(Execute(p.run_id), RunOutcome::kCompleted);
  auto m = MessageOf(p.message_id);
  EXPECT_EQ(m.tool_calls.size(), 2u) << "the third identical call is not run";
  EXPECT_EQ(streamer_.left(), 2u);
  EXPECT_EQ(m.content, "I've completed the task.");
}

TEST_F(AgentTest, MaxStepsBoundsTheLoop) {
  config_.max_steps = 2;
  auto p = Post("Keep going");
  streamer_.AddCall("c1", "write_file", R"({"path":"a.txt","content":"a"})");
  streamer_.AddCall("c2", "write_file", R"({"path":"b.txt","content":"b"})");
  streamer_.AddCall("c3", "write_file", R"({"path":"c.txt","content":"c"})");
  EXPECT_EQ(Execute(p.run_id), RunOutcome::kCompleted);
  EXPECT_EQ(streamer_.left(), 1u);
  EXPECT_EQ(FileContent(p.project_id, "b.txt"), "b");
  EXPECT_EQ(FileContent(p.project_id, "c.txt"), std::nullopt);
  EXPECT_EQ(MessageOf(p.message_id).status, MessageStatus::kCompleted);
}

TEST_F(AgentTest, ARunAnotherProcessHoldsIsNotClaimed) {
  auto p = Post("Mine?");
  Write([&](Repo& repo) {
    auto r = repo.GetRun(p.run_id).value();
    r.lease_owner = "another-process";
    r.lease_expires_at = NowMillis() + 60000;
    repo.UpdateRun(r);
  });
  EXPECT_EQ(Execute(p.run_id), RunOutcome::kFencedOut);
  EXPECT_TRUE(streamer_.seen().empty());
  EXPECT_EQ(RunOf(p.run_id).attempt, 0);
}

}  // namespace
}  // namespace polaris::agent_test

namespace polaris::agent_test {
namespace {
TEST_F(AgentTest, AnExceptionInAStepLeavesTheRun) {
  auto p = Post("Crash");
  ScriptedStep crash;
  crash.chunks = {"about to "};
  crash.mid_stream = []() -> asio::awaitable<void> {
    throw std::runtime_error("a bug in the step");
    co_return;
  };
  streamer_.Add(std::move(crash));
  EXPECT_THROW(Execute(p.run_id), std::runtime_error);
}
}  // namespace
}  // namespace polaris::agent_test
