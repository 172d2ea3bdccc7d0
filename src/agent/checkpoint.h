#pragma once
// What a run has durably finished, saved on the run after every completed step and every
// tool result, so a restarted run resumes where it stopped instead of starting over.
#include <boost/json/array.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace polaris::agent {

// A tool call as the model announced it (arguments: the raw text it sent).
struct TranscriptCall {
  std::string id;
  std::string name;
  std::string arguments;
};
// A model step that called tools, with the text it streamed before them.
struct AssistantStep {
  std::string text;
  std::vector<TranscriptCall> calls;
};
// A tool's result, answering one call of the step before it.
struct ToolResult {
  std::string call_id;
  std::string content;  // the result object, serialized
};

// What a run adds to the conversation: its tool-calling steps and their results. Typed, so
// reading it cannot throw; rendered as OpenAI chat messages for the next step.
class Transcript {
 public:
  void Add(AssistantStep step) { entries_.emplace_back(std::move(step)); }
  void Add(ToolResult result) { entries_.emplace_back(std::move(result)); }

  // The position of the last model step, when that step called tools (their results follow).
  std::optional<std::size_t> LastToolStep() const;
  const AssistantStep& StepAt(std::size_t index) const {
    return std::get<AssistantStep>(entries_.at(index));
  }
  // Whether a result after position `from` answers call `id`.
  bool Answered(std::size_t from, std::string_view id) const;
  // Every call id announced so far.
  std::set<std::string> CallIds() const;
  // Every call announced so far, in order.
  std::vector<const TranscriptCall*> Calls() const;
  std::size_t size() const { return entries_.size(); }

  // As chat messages: {"role":"assistant","content":…,"tool_calls":[…]}, {"role":"tool",…}.
  boost::json::array ToWire() const;
  // The inverse, for a stored checkpoint. A malformed entry ends the transcript there: what
  // came before is kept, and no result is left without its step.
  static Transcript FromWire(const boost::json::array& wire);

 private:
  std::vector<std::variant<AssistantStep, ToolResult>> entries_;
};

struct Checkpoint {
  int steps = 0;                   // model steps completed
  std::string content;             // message content after those steps
  std::int64_t prompt_tokens = 0;  // usage summed over those steps
  std::int64_t completion_tokens = 0;
  bool has_usage = false;
  std::string model;      // model of the last completed step
  Transcript transcript;  // tool-calling steps and tool results so far

  std::string Serialize() const;
  // An empty or unreadable text gives a fresh checkpoint.
  static Checkpoint Parse(const std::string& text);
};

}  // namespace polaris::agent
