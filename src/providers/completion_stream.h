#pragma once
// Accumulates one OpenAI-style chat-completions stream (the `data:` payloads of its SSE events)
// into answer text, tool calls, finish reason and usage. Pure and tolerant of the variations
// of OpenRouter's routed providers and Cerebras (content deltas, tool-call fragments by index,
// error chunks, usage in the last chunk).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace polaris::providers {

struct AccumulatedToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // concatenated fragments; not validated as JSON here
};

struct StreamUsage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};

class CompletionStream {
 public:
  struct Update {
    std::string text;                  // new answer text in this payload (never reasoning)
    bool done = false;                 // "[DONE]" seen (now or earlier)
    std::optional<std::string> error;  // in-stream error or unparseable payload: the step failed
  };

  // One SSE event's data. Never throws. Failure and [DONE] are sticky: once either happened,
  // later payloads are ignored and the same done/error is reported again.
  Update OnData(std::string_view data);

  // After the byte stream ended: nullopt (ok) only if a finish_reason or [DONE] was seen, no
  // error occurred and every tool call has a name. Otherwise a short sentence for the logs and
  // the message's error. finish_reason "length" is ok here; whether to accept it is the caller's.
  std::optional<std::string> Finish() const;

  const std::string& text() const { return text_; }
  std::vector<AccumulatedToolCall> tool_calls() const;  // ordered by index
  const std::optional<std::string>& finish_reason() const { return finish_reason_; }
  const std::optional<StreamUsage>& usage() const { return usage_; }
  const std::string& model() const { return model_; }  // first non-empty "model" of the chunks

 private:
  // Applies one JSON payload; returns an error sentence when the payload fails the step.
  std::optional<std::string> Apply(std::string_view payload, std::string& new_text);

  std::string text_;
  std::map<std::int64_t, AccumulatedToolCall> calls_;
  // Stream index -> key in calls_, for providers that reuse index 0 for every parallel call.
  std::map<std::int64_t, std::int64_t> index_alias_;
  std::optional<std::int64_t> last_call_;  // key of the call the last fragment went to
  std::optional<std::string> finish_reason_;
  std::optional<StreamUsage> usage_;
  std::string model_;
  std::optional<std::string> error_;
  bool done_ = false;
};

}  // namespace polaris::providers
