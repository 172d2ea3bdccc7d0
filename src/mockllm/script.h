#pragma once
// The mock provider's script: steps parsed from JSON, the FIFO queue they wait in, the
// default answer when the queue is empty, and the builders that turn a step into the exact
// bytes of an OpenAI-style answer (SSE events or one JSON body). Pure: no I/O, no clock.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace polaris::mockllm {

enum class StepKind { kText, kToolCalls, kFault };

enum class Fault {
  kNone,
  kHttp500,
  kHttp429,
  kHttp400,
  kHttp401,
  kDrop,           // close the connection without answering
  kStall,          // headers and a comment, then silence
  kDropMidStream,  // half of the text, then a reset
  kMalformed,      // one valid chunk, then an unparseable event
  kErrorChunk,     // one valid chunk, then an in-stream error with finish_reason "error"
  kEmpty200,       // 200 with an empty body
  kNoFinish,       // text chunks, then the body ends without finish_reason or [DONE]
};

struct ToolCall {
  std::string id;  // empty: generated when the step is answered
  std::string name;
  std::string arguments;  // the JSON text sent to the client, verbatim
};

struct Usage {
  std::int64_t prompt = 0;
  std::int64_t completion = 0;
};

struct Step {
  StepKind kind = StepKind::kText;
  std::string text;
  std::string reasoning;        // streamed before the text as delta.reasoning
  int chunks = 0;               // 0: about three words per chunk
  int delay_ms = 10;            // between paced events
  int first_byte_delay_ms = 0;  // before the response headers
  std::optional<Usage> usage;   // nullopt: estimated from the sizes
  std::vector<ToolCall> calls;
  int split_args = 3;  // fragments per tool call's arguments
  Fault fault = Fault::kNone;
  std::string message;  // error message for the HTTP faults
  int retry_after = 1;  // seconds, for http429
  int stall_ms = 600000;
  bool sticky = false;  // stays at the head of the queue until reset
};

// Parses one step ({"type":"text"|"tool_calls"|"fault", ...}); 400-style errors on bad input.
Result<Step> ParseStep(const boost::json::value& json);
// Parses {"steps":[...]}; a missing "steps" is an empty list.
Result<std::vector<Step>> ParseSteps(const boost::json::object& body);

// FIFO of steps. Not thread-safe: the caller holds the lock.
class ScriptQueue {
 public:
  void Append(std::vector<Step> steps);
  void Clear() { steps_.clear(); }
  std::size_t size() const { return steps_.size(); }
  // The next step; a sticky head is returned without being removed.
  std::optional<Step> Next();

 private:
  std::deque<Step> steps_;
};

// The answer when the script is empty: "Done." after a tool result, a write_file call for
// "create file <path>", otherwise an echo of the last user message.
Step DefaultStep(const boost::json::object& request);

// What every chunk of one answer shares.
struct ChunkContext {
  std::string id;  // "chatcmpl-..."
  std::string model;
  std::int64_t created = 0;  // unix seconds
};

// Gives every call without an id one derived from the answer's id ("call_<suffix>_<i>").
void AssignCallIds(Step& step, std::string_view response_id);

// Usage to report: the step's own, or estimated (about four characters per token).
Usage UsageFor(const Step& step, const boost::json::object& request);

// Splits text into `chunks` pieces (UTF-8 safe), or into pieces of about three words.
std::vector<std::string> SplitText(std::string_view text, int chunks);
// Splits into n nearly equal, UTF-8 safe pieces; at least one piece, never an empty one
// unless the input is empty.
std::vector<std::string> SplitEven(std::string_view text, int n);

// One SSE event of a streamed answer, written after waiting delay_ms.
struct SseEvent {
  std::string data;
  int delay_ms = 0;
};

enum class StreamEnd {
  kEndBody,  // finish the chunked body normally
  kAbort,    // reset the connection (drop_mid_stream)
};

struct StreamPlan {
  std::vector<SseEvent> events;  // after the ": MOCK PROCESSING" comment
  int hold_ms = 0;               // stall: keep the stream open, silent, this long
  StreamEnd end = StreamEnd::kEndBody;
  bool ends_with_done = false;  // the last event is "data: [DONE]"
};

// Every event of a streamed answer to `step` (a text, tool_calls or streamed-fault step).
StreamPlan PlanStream(const Step& step, const ChunkContext& ctx, bool include_usage,
                      const Usage& usage);

// The non-streamed chat.completion body for a text or tool_calls step.
boost::json::object CompletionBody(const Step& step, const ChunkContext& ctx, const Usage& usage);

// HTTP status for the faults answered before any stream (0 for the others).
int FaultStatus(Fault fault);
// The {error:{code,message}} body of an HTTP fault.
boost::json::object FaultBody(const Step& step);

}  // namespace polaris::mockllm
