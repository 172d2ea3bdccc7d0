#pragma once
// A test double for the provider: steps are scripted in order, each streams its text in
// chunks through the caller's sink (so flushes, fencing and cancels happen as they do with a
// real stream) and returns a StepResult. It records every request it was given.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "providers/provider.h"

namespace polaris::providers_test {

struct ScriptedStep {
  std::vector<std::string> chunks;                    // streamed one by one
  std::vector<providers::AccumulatedToolCall> calls;  // announced at the end
  providers::Failure failure = providers::Failure::kNone;
  std::string error;  // the failure's sentence
  std::optional<std::chrono::seconds> retry_after;
  // Runs after the first chunk was handed to the sink (a cancel, a store change...).
  std::function<boost::asio::awaitable<void>()> mid_stream;
  // Thrown instead of answering (a bug in the step, not a provider failure).
  std::optional<std::string> throw_error;
};

class ScriptedStreamer final : public providers::StepStreamer {
 public:
  void Add(ScriptedStep step) { steps_.push_back(std::move(step)); }
  void AddText(std::vector<std::string> chunks) {
    ScriptedStep s;
    s.chunks = std::move(chunks);
    Add(std::move(s));
  }
  void AddCall(std::string id, std::string name, std::string arguments) {
    ScriptedStep s;
    s.calls.push_back({std::move(id), std::move(name), std::move(arguments)});
    Add(std::move(s));
  }
  void AddFailure(providers::Failure failure, std::string error,
                  std::vector<std::string> chunks = {}) {
    ScriptedStep s;
    s.failure = failure;
    s.error = std::move(error);
    s.chunks = std::move(chunks);
    Add(std::move(s));
  }

  struct Seen {
    std::string provider;
    providers::StepRequest request;
  };
  const std::vector<Seen>& seen() const { return seen_; }
  std::size_t left() const { return steps_.size(); }

  boost::asio::awaitable<providers::StepResult> Stream(const providers::ProviderConfig& provider,
                                                       const providers::Timeouts&,
                                                       const providers::StepRequest& request,
                                                       providers::TextSink on_text) override {
    seen_.push_back({provider.name, request});
    // Cancelled as a real stream is: through the awaiting coroutine's cancellation slot.
    const boost::asio::cancellation_state state =
        co_await boost::asio::this_coro::cancellation_state;
    auto cancelled = [&state] { return state.cancelled() != boost::asio::cancellation_type::none; };
    if (steps_.empty())
      throw std::logic_error("ScriptedStreamer: no step left for " + provider.name);
    ScriptedStep step = std::move(steps_.front());
    steps_.pop_front();
    if (step.throw_error) throw std::runtime_error(*step.throw_error);
    providers::StepResult r;
    for (std::size_t i = 0; i < step.chunks.size(); ++i) {
      if (cancelled()) break;
      co_await on_text(step.chunks[i]);
      r.text += step.chunks[i];
      if (i == 0 && step.mid_stream) co_await step.mid_stream();
      // A real stream waits on its socket between chunks: yield, so a stop posted meanwhile
      // lands before the next chunk.
      auto ex = co_await boost::asio::this_coro::executor;
      co_await boost::asio::post(ex, boost::asio::use_awaitable);
    }
    if (cancelled()) {
      r.failure = providers::Failure::kCancelled;
      r.error = "cancelled";
      co_return r;
    }
    r.failure = step.failure;
    r.error = step.error;
    r.retry_after = step.retry_after;
    if (r.ok()) {
      r.tool_calls = std::move(step.calls);
      r.finish_reason = r.tool_calls.empty() ? "stop" : "tool_calls";
    }
    co_return r;
  }

 private:
  std::deque<ScriptedStep> steps_;
  std::vector<Seen> seen_;
};

}  // namespace polaris::providers_test
