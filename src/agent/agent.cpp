#include "agent/agent.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <optional>
#include <set>

#include "agent/checkpoint.h"
#include "agent/prompts.h"
#include "agent/result_limit.h"
#include "agent/tools.h"
#include "domain/clock.h"
#include "domain/ids.h"
#include "domain/limits.h"
#include "domain/live_tail.h"
#include "domain/log.h"
#include "domain/run_lease.h"
#include "json/json_input.h"
#include "providers/chain.h"
#include "store/store_client.h"

namespace polaris::agent {
namespace {
namespace json = boost::json;
using boost::asio::awaitable;
using Clock = std::chrono::steady_clock;

constexpr const char* kDoneFallback = "I've completed the task.";

// The checkpoint a new attempt starts from, with the message rolled back to it. Calls the
// message announced beyond the checkpoint never ran (a result commits with its tool's
// changes) and are dropped; results recorded since the checkpoint (they enter it only with
// the next step) are put back into the transcript.
Checkpoint ResumeFrom(const std::string& saved, Message& msg) {
  Checkpoint cp = Checkpoint::Parse(saved);
  const std::set<std::string> kept = cp.transcript.CallIds();
  std::erase_if(msg.tool_calls, [&](const ToolCall& tc) { return !kept.count(tc.id); });
  if (auto last = cp.transcript.LastToolStep()) {
    const std::vector<TranscriptCall> calls = cp.transcript.StepAt(*last).calls;  // grows below
    for (const auto& c : calls) {
      if (cp.transcript.Answered(*last, c.id)) continue;
      for (const auto& tc : msg.tool_calls) {
        if (tc.id == c.id && tc.result_json) cp.transcript.Add(ToolResult{c.id, *tc.result_json});
      }
    }
  }
  msg.content = cp.content;
  return cp;
}

std::string Compose(const std::string& base, const std::string& step) {
  if (base.empty()) return step;
  if (step.empty()) return base;
  return base + "\n\n" + step;
}

// Tool arguments as stored on the message: the parsed object, or the raw text if invalid.
std::string ArgsForRecord(const std::string& raw) {
  auto v = json_input::Parse(raw.empty() ? std::string_view("{}") : std::string_view(raw));
  return v ? json::serialize(*v) : json::serialize(json::value(raw));
}

// For the sides of a parallel_group: a run's stop cancels them through the group, and what
// they await after it (a last flush, a store write) must still complete rather than throw.
template <class T>
awaitable<T> NoThrowOnCancel(awaitable<T> a) {
  co_await boost::asio::this_coro::throw_if_cancelled(false);
  co_return co_await std::move(a);
}

class RunExecution {
 public:
  RunExecution(AgentDeps& deps, std::string run_id, RunStop& stop)
      : deps_(deps), run_id_(std::move(run_id)), stop_(stop) {}

  awaitable<RunOutcome> Execute();

 private:
  using Mutation = std::function<void(Repo&, Run&, Message&)>;
  awaitable<bool> Begin();
  awaitable<RunOutcome> FailUnstartable(const std::string& error);
  awaitable<bool> Fenced(Mutation fn);
  awaitable<void> Flush(bool force);
  awaitable<void> FlushTicker();
  awaitable<providers::ChainResult> StepWithTicker(const providers::StepRequest& req,
                                                   providers::TextSink on_text,
                                                   std::function<awaitable<void>()> on_reset);
  awaitable<RunOutcome> ExecutePendingCalls();
  awaitable<RunOutcome> Finish(RunOutcome outcome, std::optional<std::string> error);
  RunOutcome Interrupted() const;
  // The message is no longer ours (cancelled, deleted, or taken over by another attempt):
  // stop at once, provider connection included.
  void FenceOut() {
    fenced_out_ = true;
    stop_.Stop(CancelReason::kSuperseded);
  }
  bool RepeatsTooOften(const providers::AccumulatedToolCall& call) const;
  json::array StepMessages() const;
  // Tells the live tail the message's content as it is now (nothing once the message is no
  // longer ours: a cancel or a takeover ends what watchers may see from this attempt).
  void Live();

  AgentDeps& deps_;
  std::string run_id_;
  RunStop& stop_;
  int attempt_ = 0;
  std::string project_id_;
  std::string message_id_;
  std::string conversation_id_;
  json::array base_messages_;  // system prompt + history
  Checkpoint cp_;
  std::string step_text_;
  std::string flushed_;  // content as last written
  Clock::time_point last_flush_{};
  bool fenced_out_ = false;
};

RunOutcome RunExecution::Interrupted() const {
  if (fenced_out_ || stop_.reason() == CancelReason::kSuperseded) return RunOutcome::kFencedOut;
  return stop_.reason() == CancelReason::kShutdown ? RunOutcome::kStopped : RunOutcome::kCancelled;
}

// The run and its message while a new attempt may claim them: the run queued or executing,
// its lease this process's or expired, the message still processing. A claim holds the lease.
std::optional<std::pair<Run, Message>> Claimable(Repo& repo, const std::string& run_id) {
  auto run = repo.GetRun(run_id);
  if (!run || (run->status != RunStatus::kQueued && run->status != RunStatus::kExecuting)) {
    return std::nullopt;
  }
  const Millis now = NowMillis();
  if (!MayClaim(*run, now)) return std::nullopt;  // another process executes it
  HoldLease(*run, now);
  auto msg = repo.GetMessage(run->message_id);
  if (!msg || msg->status != MessageStatus::kProcessing) return std::nullopt;
  return std::pair{std::move(*run), std::move(*msg)};
}

// Claims the run for a new attempt and rolls the message back to the last checkpoint.
awaitable<bool> RunExecution::Begin() {
  // What the claim gives this attempt, taken over once the write committed.
  struct Claimed {
    Checkpoint cp;
    int attempt = 0;
    std::string project_id, message_id, conversation_id;
  };
  std::optional<Claimed> claimed;
  std::vector<Message> history;
  std::string summary;
  co_await deps_.db.Write([&](Repo& repo) {
    auto claim = Claimable(repo, run_id_);
    if (!claim) return false;
    auto& [run, msg] = *claim;
    run.status = RunStatus::kExecuting;
    run.attempt += 1;
    run.started_at = NowMillis();
    repo.UpdateRun(run);
    Checkpoint cp = ResumeFrom(run.checkpoint, msg);
    repo.UpdateMessage(msg);
    claimed = Claimed{std::move(cp), run.attempt, run.project_id, msg.id, msg.conversation_id};
    return true;
  });
  if (!claimed) co_return false;
  cp_ = std::move(claimed->cp);
  attempt_ = claimed->attempt;
  project_id_ = std::move(claimed->project_id);
  message_id_ = std::move(claimed->message_id);
  conversation_id_ = std::move(claimed->conversation_id);
  // The prompt's inputs are reads: a reader takes them, so the writer holds only the claim.
  co_await deps_.db.Read([&](Repo& repo) {
    history = repo.ListMessages(conversation_id_);
    summary = ProjectSummary(repo, project_id_);
  });
  LogInfo("run attempt started", {{"run", run_id_},
                                  {"attempt", attempt_},
                                  {"message", message_id_},
                                  {"resumed_steps", cp_.steps}});
  base_messages_ = json::array{{{"role", "system"}, {"content", SystemPrompt(summary)}}};
  for (auto& m : HistoryMessages(history, message_id_)) base_messages_.push_back(std::move(m));
  flushed_ = cp_.content;
  co_return true;
}

// A run that no provider could serve fails in the one write that claims it: no history is
// read, and the writer is not asked twice.
awaitable<RunOutcome> RunExecution::FailUnstartable(const std::string& error) {
  bool failed = false;
  co_await deps_.db.Write([&](Repo& repo) {
    auto claim = Claimable(repo, run_id_);
    if (!claim) return false;
    Run* run = &claim->first;
    Message* msg = &claim->second;
    const Millis now = NowMillis();
    msg->content = Checkpoint::Parse(run->checkpoint).content;
    msg->status = MessageStatus::kFailed;
    msg->error = error;
    repo.UpdateMessageFields(*msg);
    repo.TouchConversation(msg->conversation_id, now);
    run->status = RunStatus::kFailed;
    run->attempt += 1;
    if (!run->started_at) run->started_at = now;
    run->finished_at = now;
    run->error = error;
    repo.UpdateRun(*run);
    failed = true;
    return true;
  });
  co_return failed ? RunOutcome::kFailed : RunOutcome::kFencedOut;
}

// Applies fn only while this attempt still owns a processing message.
awaitable<bool> RunExecution::Fenced(Mutation fn) {
  if (fenced_out_ || stop_.stopped()) co_return false;
  bool applied = false;
  co_await deps_.db.Write([&](Repo& repo) {
    auto run = repo.GetRun(run_id_);
    if (!run || run->status != RunStatus::kExecuting || run->attempt != attempt_ ||
        run->lease_owner != CurrentRunLease().owner) {
      return false;
    }
    auto msg = repo.GetMessage(run->message_id);
    if (!msg || msg->status != MessageStatus::kProcessing) return false;
    fn(repo, *run, *msg);
    applied = true;
    return true;
  });
  if (!applied) FenceOut();
  co_return applied;
}

awaitable<void> RunExecution::Flush(bool force) {
  std::string content = Compose(cp_.content, step_text_);
  if (content == flushed_) co_return;
  if (!force && Clock::now() - last_flush_ < deps_.config.flush_interval) co_return;
  last_flush_ = Clock::now();
  // The hot path (every 100 ms per streaming run): one fenced UPDATE instead of loading the
  // run and the message like Fenced() does.
  if (fenced_out_ || stop_.stopped()) co_return;
  bool written = false;
  // Relaxed durability: a power loss may lose the last flushes, but the run resumes from its
  // last completed step and rewrites this text anyway; a process crash loses nothing.
  Store::WriteJob write = [&](Repo& repo) {
    written = repo.UpdateContentIfCurrent(message_id_, run_id_, attempt_, content);
    if (written) repo.TouchConversation(conversation_id_, NowMillis());
    return written;
  };
  co_await deps_.db.Write(std::move(write), Store::Durability::kRelaxed);
  if (!written) {
    FenceOut();
    co_return;
  }
  flushed_ = std::move(content);
}

// Runs beside a model step: writes text the throttle held back once its window has passed,
// so the stored content is never more than one flush interval behind the stream, even when
// the next token is slow to come. Cancelled (at its next wait) when the step ends.
awaitable<void> RunExecution::FlushTicker() {
  auto ex = co_await boost::asio::this_coro::executor;
  // A cancellation that lands while a flush runs is only recorded here (awaiting does not
  // throw in a step's group): look at it before each wait.
  const boost::asio::cancellation_state state = co_await boost::asio::this_coro::cancellation_state;
  boost::asio::steady_timer timer(ex);
  while (state.cancelled() == boost::asio::cancellation_type::none) {
    // Wake when the current throttle window closes; Flush(false) then writes what is pending.
    auto due = last_flush_ + deps_.config.flush_interval;
    if (due <= Clock::now()) due = Clock::now() + deps_.config.flush_interval;
    timer.expires_at(due);
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;  // cancelled: the step ended, or the run was stopped
    co_await Flush(false);
  }
}

// The step and the flush ticker run side by side; whichever ends first cancels the other and
// is waited for. A stop of the run cancels both through the group. Otherwise the ticker only
// ends by failing (the store is away), and the step may end by an exception too (its flushes
// meet the same store): either way the exception leaves here.
// Not `step || ticker`: that waits for one to *succeed*, so a step that threw waited forever
// on a ticker that never ends, and the run hung with its lease renewed.
awaitable<providers::ChainResult> RunExecution::StepWithTicker(
    const providers::StepRequest& req, providers::TextSink on_text,
    std::function<awaitable<void>()> on_reset) {
  namespace asio = boost::asio;
  if (stop_.stopped()) {
    // Stopped before its signal could reach this attempt (it was being spawned): no request.
    providers::ChainResult stopped;
    stopped.failure = providers::Failure::kCancelled;
    stopped.error = "cancelled";
    co_return stopped;
  }
  auto ex = co_await asio::this_coro::executor;
  auto step = NoThrowOnCancel(deps_.chain.Step(req, std::move(on_text), std::move(on_reset)));
  auto ticker = NoThrowOnCancel(FlushTicker());
  // Named, not temporaries of the co_await (see docs/architecture.md, "Coroutine rule").
  auto group = asio::experimental::make_parallel_group(
      asio::co_spawn(ex, std::move(step), asio::deferred),
      asio::co_spawn(ex, std::move(ticker), asio::deferred));
  auto [order, step_error, result, ticker_error] =
      co_await group.async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (order[0] == 1 && ticker_error) std::rethrow_exception(ticker_error);
  if (step_error) std::rethrow_exception(step_error);
  co_return std::move(result);
}

bool RunExecution::RepeatsTooOften(const providers::AccumulatedToolCall& call) const {
  const std::string args = ArgsForRecord(call.arguments);
  int seen = 1;
  for (const auto* c : cp_.transcript.Calls()) {
    if (c->name == call.name && ArgsForRecord(c->arguments) == args) ++seen;
  }
  return seen >= deps_.config.repeat_limit;
}

json::array RunExecution::StepMessages() const {
  json::array msgs = base_messages_;
  for (auto& m : cp_.transcript.ToWire()) msgs.push_back(std::move(m));
  return msgs;
}

// Runs the tool calls of the last assistant step that have no result yet, one write each:
// the tool's changes and its recorded result commit together. The write touches one
// tool-call row, whatever the message holds; the checkpoint takes the results with the next
// step (Begin restores them on resume). Calls beyond the per-step limit are answered with an
// error and never run.
awaitable<RunOutcome> RunExecution::ExecutePendingCalls() {
  auto last = cp_.transcript.LastToolStep();
  if (!last) co_return RunOutcome::kCompleted;
  const std::vector<TranscriptCall> pending_calls =
      cp_.transcript.StepAt(*last).calls;  // grows below
  const Limits& limits = CurrentLimits();
  const auto max_calls = static_cast<std::size_t>(limits.max_tool_calls_per_step);
  const auto max_result = static_cast<std::size_t>(limits.max_tool_result_bytes);
  std::size_t index = 0;
  for (const auto& c : pending_calls) {
    const bool over_limit = index++ >= max_calls;
    const std::string& id = c.id;
    if (cp_.transcript.Answered(*last, id)) continue;
    const std::string& name = c.name;
    const std::string& args = c.arguments;
    std::string result_text;
    if (over_limit) CountLimitHit("tool_calls_per_step");
    // A tool that only reads runs on a reader (a search over a large project must not hold
    // the writer that every user's writes wait for); the fenced write records its result.
    std::optional<json::object> read_result;
    if (!over_limit && IsReadOnlyTool(name)) {
      // On the background reader: a search over a large project waits behind other tools'
      // reads, never in front of a request's. A run cancelled while it waited skips the work.
      co_await deps_.db.ReadInBackground([&](Repo& repo) {
        if (stop_.stopped()) return;
        read_result = ExecuteTool(repo, project_id_, name, args, NowMillis());
      });
      if (stop_.stopped()) co_return Interrupted();
    }
    bool ok = co_await Fenced([&](Repo& repo, Run&, Message& m) {
      json::object result =
          over_limit    ? json::object{{"success", false},
                                    {"error", "Not run: a step may make at most " +
                                                     std::to_string(max_calls) + " tool calls"}}
          : read_result ? std::move(*read_result)
                        : ExecuteTool(repo, project_id_, name, args, NowMillis());
      json::object limited = LimitToolResult(std::move(result), max_result);
      if (limited.contains("truncated")) CountLimitHit("tool_result_bytes");
      result_text = json::serialize(limited);
      repo.SetToolCallResult(m, id, result_text);
    });
    if (!ok) co_return Interrupted();
    cp_.transcript.Add(ToolResult{id, std::move(result_text)});
  }
  co_return RunOutcome::kCompleted;
}

awaitable<RunOutcome> RunExecution::Finish(RunOutcome outcome, std::optional<std::string> error) {
  const bool failed = outcome == RunOutcome::kFailed;
  if (failed) LogWarn("run failed", {{"run", run_id_}, {"error", error.value_or("")}});
  std::string content = failed ? Compose(cp_.content, step_text_) : cp_.content;
  if (!failed && content.empty()) content = kDoneFallback;
  bool ok = co_await Fenced([&](Repo& repo, Run& run, Message& m) {
    Millis now = NowMillis();
    m.content = content;
    m.status = failed ? MessageStatus::kFailed : MessageStatus::kCompleted;
    m.error = error;
    if (!cp_.model.empty()) m.model = cp_.model;
    if (cp_.has_usage) m.usage = Usage{cp_.prompt_tokens, cp_.completion_tokens};
    repo.UpdateMessageFields(m);
    repo.TouchConversation(m.conversation_id, now);
    run.status = failed ? RunStatus::kFailed : RunStatus::kCompleted;
    run.finished_at = now;
    run.error = error;
    if (!cp_.model.empty()) run.model = cp_.model;
    run.checkpoint = cp_.Serialize();
    repo.UpdateRun(run);
  });
  co_return ok ? outcome : Interrupted();
}

void RunExecution::Live() {
  if (!deps_.tail || fenced_out_ || stop_.stopped()) return;
  deps_.tail->Publish(conversation_id_, message_id_, Compose(cp_.content, step_text_));
}

awaitable<RunOutcome> RunExecution::Execute() {
  if (!deps_.chain.HasProviders()) {
    co_return co_await FailUnstartable(providers::ProviderChain::kNoProviderError);
  }
  if (!co_await Begin()) co_return RunOutcome::kFencedOut;
  // However the attempt ends, its final state is committed by then: the store takes over.
  struct EndLive {
    LiveTail* tail;
    const std::string& conversation_id;
    const std::string& message_id;
    ~EndLive() {
      if (tail) tail->End(conversation_id, message_id);
    }
  } end_live{deps_.tail, conversation_id_, message_id_};
  Live();  // resumed from the checkpoint: that is the content now
  if (auto r = co_await ExecutePendingCalls(); r != RunOutcome::kCompleted) co_return r;

  while (cp_.steps < deps_.config.max_steps) {
    providers::StepRequest req;
    req.messages = StepMessages();
    req.tools = ToolDefinitions();
    req.log_id = run_id_;
    step_text_.clear();
    providers::TextSink on_text = [this](std::string_view t) -> awaitable<void> {
      step_text_.append(t);
      Live();
      co_await Flush(false);
    };
    std::function<awaitable<void>()> on_reset = [this]() -> awaitable<void> {
      step_text_.clear();  // a retry on the next provider replaces this step's text
      Live();
      co_await Flush(true);
    };
    providers::ChainResult res =
        co_await StepWithTicker(req, std::move(on_text), std::move(on_reset));
    if (stop_.stopped() || res.failure == providers::Failure::kCancelled) co_return Interrupted();
    if (!res.ok()) co_return co_await Finish(RunOutcome::kFailed, res.error);
    step_text_ = res.text;
    Live();

    // The step is complete: fold it into the checkpoint, announce its tool calls.
    Checkpoint next = cp_;
    next.steps += 1;
    next.content = Compose(cp_.content, step_text_);
    next.model = res.model;
    if (res.usage) {
      next.has_usage = true;
      next.prompt_tokens += res.usage->prompt_tokens;
      next.completion_tokens += res.usage->completion_tokens;
    }
    std::vector<providers::AccumulatedToolCall> calls;
    for (auto& call : res.tool_calls) {
      if (RepeatsTooOften(call)) break;  // a loop: stop before running it again
      calls.push_back(std::move(call));
    }
    const bool looping = calls.size() < res.tool_calls.size();
    AssistantStep announced{step_text_, {}};
    std::vector<ToolCall> records;
    std::set<std::string> used = cp_.transcript.CallIds();  // ids must be unique on the message
    for (auto& call : calls) {
      if (call.id.empty() || call.id.size() > 100 || used.count(call.id)) {
        call.id = "call_" + NewId(Table::kRun).substr(4);
      }
      used.insert(call.id);
      announced.calls.push_back(TranscriptCall{call.id, call.name, call.arguments});
      records.push_back(ToolCall{call.id, call.name, ArgsForRecord(call.arguments), std::nullopt});
    }
    if (!announced.calls.empty()) next.transcript.Add(std::move(announced));
    bool ok = co_await Fenced([&](Repo& repo, Run& run, Message& m) {
      m.content = next.content;
      repo.UpdateMessageFields(m);
      if (!records.empty()) repo.AppendToolCalls(m, records);
      repo.TouchConversation(m.conversation_id, NowMillis());
      run.provider = res.provider;
      run.model = res.model;
      run.checkpoint = next.Serialize();
      repo.UpdateRun(run);
    });
    if (!ok) co_return Interrupted();
    cp_ = std::move(next);
    step_text_.clear();
    flushed_ = cp_.content;
    if (calls.empty() || looping) break;
    if (auto r = co_await ExecutePendingCalls(); r != RunOutcome::kCompleted) co_return r;
  }
  co_return co_await Finish(RunOutcome::kCompleted, std::nullopt);
}

}  // namespace

awaitable<RunOutcome> ExecuteRun(AgentDeps& deps, const std::string& run_id, RunStop& stop) {
  // A stop cancels the operation the run waits on; what follows (the final writes) must still
  // run, so awaiting after a cancellation does not throw.
  co_await boost::asio::this_coro::throw_if_cancelled(false);
  RunExecution run(deps, run_id, stop);
  co_return co_await run.Execute();
}

}  // namespace polaris::agent
