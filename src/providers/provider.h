#pragma once
// One model step against an OpenAI-compatible chat-completions endpoint, streamed.
// Call order: StreamChatCompletion sends the request, calls on_text for each piece of answer
// text as it arrives, and returns a StepResult once the stream ends, fails or is cancelled.
#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/completion_stream.h"

namespace polaris::providers {

struct ProviderConfig {
  std::string name;      // "openrouter", "cerebras"
  std::string base_url;  // e.g. https://openrouter.ai/api/v1
  std::string api_key;
  std::string model;
};

struct Timeouts {
  std::chrono::milliseconds connect{10000};
  std::chrono::milliseconds first_byte{60000};
  std::chrono::milliseconds idle{60000};
};

struct StepRequest {
  boost::json::array messages;
  boost::json::array tools;  // empty: no tools offered
  int max_tokens = 2000;
  double temperature = 0.7;
  std::string log_id;  // what the step is for, in the logs: a run id, or a request id
};

enum class Failure {
  kNone,
  kRetryable,  // network, timeout, 408/429/5xx, broken stream: try the next provider
  kFatal,      // 400/401/403/404/422: the request or the key is wrong, do not move on
  kCancelled,
};

struct StepResult {
  Failure failure = Failure::kNone;
  std::string error;  // a sentence, set when failure != kNone
  int http_status = 0;
  std::optional<std::chrono::seconds> retry_after;
  std::string text;
  std::vector<AccumulatedToolCall> tool_calls;
  std::optional<std::string> finish_reason;
  std::optional<StreamUsage> usage;
  bool ok() const { return failure == Failure::kNone; }
};

using TextSink = std::function<boost::asio::awaitable<void>(std::string_view)>;

// The JSON body sent to the provider (exposed for tests).
std::string BuildRequestBody(const ProviderConfig& provider, const StepRequest& request);

// Streams one step from one provider: the OpenAI-compatible client below, or a test double.
// Never throws for provider or network trouble: that is a StepResult. A cancellation of the
// awaiting coroutine (Asio's per-operation cancellation) ends it with Failure::kCancelled.
class StepStreamer {
 public:
  virtual ~StepStreamer() = default;
  virtual boost::asio::awaitable<StepResult> Stream(const ProviderConfig& provider,
                                                    const Timeouts& timeouts,
                                                    const StepRequest& request,
                                                    TextSink on_text) = 0;
};

// The real one: StreamChatCompletion over HTTP(S).
StepStreamer& HttpStepStreamer();

// Streams one step over HTTP(S) from provider.base_url.
boost::asio::awaitable<StepResult> StreamChatCompletion(const ProviderConfig& provider,
                                                        const Timeouts& timeouts,
                                                        const StepRequest& request,
                                                        TextSink on_text);

}  // namespace polaris::providers
