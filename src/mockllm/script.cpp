#include "mockllm/script.h"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <regex>
#include <utility>

namespace polaris::mockllm {
namespace json = boost::json;
namespace {

constexpr std::string_view kFaultText =
    "The mock provider started answering and then something went wrong on the way.";
constexpr std::string_view kErrorEvent =
    "data: {\"error\":{\"code\":502,\"message\":\"Upstream error\"},\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"error\"}]}\n\n";
constexpr int kMaxDelayMs = 3'600'000;

constexpr std::array<std::pair<std::string_view, Fault>, 11> kFaults = {{
    {"http500", Fault::kHttp500},
    {"http429", Fault::kHttp429},
    {"http400", Fault::kHttp400},
    {"http401", Fault::kHttp401},
    {"drop", Fault::kDrop},
    {"stall", Fault::kStall},
    {"drop_mid_stream", Fault::kDropMidStream},
    {"malformed", Fault::kMalformed},
    {"error_chunk", Fault::kErrorChunk},
    {"empty_200", Fault::kEmpty200},
    {"no_finish", Fault::kNoFinish},
}};

// ---- parsing ----

Result<std::string> StringField(const json::object& o, std::string_view key,
                                std::string fallback = {}) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return fallback;
  if (!it->value().is_string()) return Error::BadRequest(std::string(key) + " must be a string");
  return std::string(it->value().get_string());
}

Result<int> IntField(const json::object& o, std::string_view key, int fallback,
                     int max = kMaxDelayMs) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return fallback;
  boost::system::error_code ec;
  auto n = it->value().to_number<std::int64_t>(ec);
  if (ec || n < 0 || n > max) {
    return Error::BadRequest(std::string(key) + " must be an integer in [0, " +
                             std::to_string(max) + "]");
  }
  return static_cast<int>(n);
}

Result<std::optional<Usage>> UsageField(const json::object& o) {
  auto it = o.find("usage");
  if (it == o.end() || it->value().is_null()) return std::optional<Usage>();
  if (!it->value().is_object()) return Error::BadRequest("usage must be an object");
  auto prompt = IntField(it->value().as_object(), "prompt", 0, 1 << 30);
  if (!prompt) return prompt.error();
  auto completion = IntField(it->value().as_object(), "completion", 0, 1 << 30);
  if (!completion) return completion.error();
  return std::optional<Usage>(Usage{*prompt, *completion});
}

// Fields every kind of step may carry.
Status ParseCommon(const json::object& o, Step& s) {
  auto text = StringField(o, "text");
  auto reasoning = StringField(o, "reasoning");
  auto chunks = IntField(o, "chunks", 0, 100'000);
  auto delay = IntField(o, "delayMs", 10);
  auto first_byte = IntField(o, "firstByteDelayMs", 0);
  auto usage = UsageField(o);
  if (!text) return text.error();
  if (!reasoning) return reasoning.error();
  if (!chunks) return chunks.error();
  if (!delay) return delay.error();
  if (!first_byte) return first_byte.error();
  if (!usage) return usage.error();
  auto sticky = o.find("sticky");
  if (sticky != o.end() && !sticky->value().is_bool() && !sticky->value().is_null()) {
    return Error::BadRequest("sticky must be a boolean");
  }
  s.text = std::move(*text);
  s.reasoning = std::move(*reasoning);
  s.chunks = *chunks;
  s.delay_ms = *delay;
  s.first_byte_delay_ms = *first_byte;
  s.usage = *usage;
  s.sticky = sticky != o.end() && sticky->value().is_bool() && sticky->value().get_bool();
  return Ok();
}

Result<ToolCall> ParseCall(const json::value& v) {
  if (!v.is_object()) return Error::BadRequest("each call must be an object");
  const auto& o = v.as_object();
  auto id = StringField(o, "id");
  auto name = StringField(o, "name");
  if (!id) return id.error();
  if (!name) return name.error();
  if (name->empty()) return Error::BadRequest("each call needs a name");
  ToolCall call{std::move(*id), std::move(*name), "{}"};
  // An object is serialized; a string is sent verbatim (so tests can send broken JSON).
  if (auto it = o.find("arguments"); it != o.end() && !it->value().is_null()) {
    call.arguments = it->value().is_string() ? std::string(it->value().get_string())
                                             : json::serialize(it->value());
  }
  return call;
}

Status ParseCalls(const json::object& o, Step& s) {
  auto split = IntField(o, "splitArgs", 3, 10'000);
  if (!split) return split.error();
  s.split_args = std::max(1, *split);
  auto it = o.find("calls");
  if (it == o.end() || !it->value().is_array() || it->value().as_array().empty()) {
    return Error::BadRequest("a tool_calls step needs a non-empty calls array");
  }
  for (const auto& v : it->value().as_array()) {
    auto call = ParseCall(v);
    if (!call) return call.error();
    s.calls.push_back(std::move(*call));
  }
  return Ok();
}

Status ParseFault(const json::object& o, Step& s) {
  auto name = StringField(o, "fault");
  if (!name) return name.error();
  auto found =
      std::find_if(kFaults.begin(), kFaults.end(), [&](const auto& f) { return f.first == *name; });
  if (found == kFaults.end()) return Error::BadRequest("unknown fault: " + *name);
  s.fault = found->second;
  auto message = StringField(o, "message", "Mock provider error");
  auto retry = IntField(o, "retryAfter", 1);
  auto stall = IntField(o, "stallMs", 600'000);
  if (!message) return message.error();
  if (!retry) return retry.error();
  if (!stall) return stall.error();
  s.message = std::move(*message);
  s.retry_after = *retry;
  s.stall_ms = *stall;
  if (s.text.empty()) s.text = kFaultText;  // the streamed faults need some text to cut
  return Ok();
}

// ---- request inspection ----

const json::array* Messages(const json::object& request) {
  auto it = request.find("messages");
  return it != request.end() && it->value().is_array() ? &it->value().as_array() : nullptr;
}

std::string_view Role(const json::value& message) {
  if (!message.is_object()) return {};
  auto it = message.as_object().find("role");
  return it != message.as_object().end() && it->value().is_string()
             ? std::string_view(it->value().get_string())
             : std::string_view();
}

// A message's text: content is a string or an array of {type:"text", text} parts.
std::string ContentText(const json::value& message) {
  if (!message.is_object()) return {};
  auto it = message.as_object().find("content");
  if (it == message.as_object().end()) return {};
  if (it->value().is_string()) return std::string(it->value().get_string());
  std::string out;
  if (!it->value().is_array()) return out;
  for (const auto& part : it->value().as_array()) {
    if (!part.is_object()) continue;
    auto text = part.as_object().find("text");
    if (text != part.as_object().end() && text->value().is_string()) {
      out += text->value().get_string();
    }
  }
  return out;
}

// The first n code points of a UTF-8 string.
std::string Utf8Prefix(std::string_view s, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t count = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && count++ == n) break;
  }
  return std::string(s.substr(0, i));
}

// ---- SSE builders ----

json::object ChunkBase(const ChunkContext& ctx) {
  return {{"id", ctx.id},
          {"object", "chat.completion.chunk"},
          {"created", ctx.created},
          {"model", ctx.model}};
}

std::string Data(const json::value& v) {
  return "data: " + json::serialize(v) + "\n\n";
}

// Appends one chunk with the given delta; the first delta of an answer carries the role.
class EventSink {
 public:
  EventSink(const ChunkContext& ctx, std::vector<SseEvent>& events) : ctx_(ctx), events_(events) {}

  void Delta(json::object delta, int delay_ms, json::value finish = nullptr) {
    if (first_) delta["role"] = "assistant";
    first_ = false;
    json::object chunk = ChunkBase(ctx_);
    chunk["choices"] = json::array{
        json::object{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish}}};
    Raw(Data(chunk), delay_ms);
  }
  void Raw(std::string data, int delay_ms) {
    // The first event follows the comment at once; later ones are paced.
    events_.push_back({std::move(data), events_.empty() ? 0 : delay_ms});
  }
  void Pieces(std::string_view field, const std::vector<std::string>& pieces, int delay_ms) {
    for (const auto& p : pieces) Delta({{field, p}}, delay_ms);
  }

 private:
  const ChunkContext& ctx_;
  std::vector<SseEvent>& events_;
  bool first_ = true;
};

void AddToolCalls(EventSink& sink, const Step& step) {
  for (std::size_t i = 0; i < step.calls.size(); ++i) {
    const ToolCall& call = step.calls[i];
    auto fragments = SplitEven(call.arguments, step.split_args);
    for (std::size_t j = 0; j < fragments.size(); ++j) {
      json::object fn{{"arguments", fragments[j]}};
      json::object entry{{"index", i}};
      if (j == 0) {  // id, type and name come only with the first fragment
        fn["name"] = call.name;
        entry["id"] = call.id;
        entry["type"] = "function";
      }
      entry["function"] = std::move(fn);
      sink.Delta({{"tool_calls", json::array{std::move(entry)}}}, step.delay_ms);
    }
  }
}

json::object UsageJson(const Usage& u) {
  return {{"prompt_tokens", u.prompt},
          {"completion_tokens", u.completion},
          {"total_tokens", u.prompt + u.completion}};
}

// The streamed faults: some text, then the failure.
StreamPlan PlanFaultStream(const Step& step, const ChunkContext& ctx) {
  StreamPlan plan;
  EventSink sink(ctx, plan.events);
  auto pieces = SplitText(step.text, step.chunks);
  switch (step.fault) {
    case Fault::kStall:
      plan.hold_ms = step.stall_ms;
      break;
    case Fault::kDropMidStream:
      pieces.resize(std::max<std::size_t>(1, pieces.size() / 2));
      sink.Pieces("content", pieces, step.delay_ms);
      plan.end = StreamEnd::kAbort;
      break;
    case Fault::kMalformed:
      sink.Pieces("content", {pieces.front()}, step.delay_ms);
      sink.Raw("data: {not json\n\n", step.delay_ms);
      break;
    case Fault::kErrorChunk:
      sink.Pieces("content", {pieces.front()}, step.delay_ms);
      sink.Raw(std::string(kErrorEvent), step.delay_ms);
      break;
    default:
      sink.Pieces("content", pieces, step.delay_ms);
      break;  // no_finish
  }
  return plan;
}

}  // namespace

Result<Step> ParseStep(const json::value& v) {
  if (!v.is_object()) return Error::BadRequest("each step must be an object");
  const auto& o = v.as_object();
  auto type = StringField(o, "type", "text");
  if (!type) return type.error();
  Step s;
  if (auto st = ParseCommon(o, s); !st) return st.error();
  Status st = Ok();
  if (*type == "text") {
    s.kind = StepKind::kText;
  } else if (*type == "tool_calls") {
    s.kind = StepKind::kToolCalls;
    st = ParseCalls(o, s);
  } else if (*type == "fault") {
    s.kind = StepKind::kFault;
    st = ParseFault(o, s);
  } else {
    return Error::BadRequest("unknown step type: " + *type);
  }
  if (!st) return st.error();
  return s;
}

Result<std::vector<Step>> ParseSteps(const json::object& body) {
  std::vector<Step> steps;
  auto it = body.find("steps");
  if (it == body.end() || it->value().is_null()) return steps;
  if (!it->value().is_array()) return Error::BadRequest("steps must be an array");
  for (const auto& v : it->value().as_array()) {
    auto step = ParseStep(v);
    if (!step)
      return Error::BadRequest("step " + std::to_string(steps.size()) + ": " +
                               step.error().message);
    steps.push_back(std::move(*step));
  }
  return steps;
}

void ScriptQueue::Append(std::vector<Step> steps) {
  for (auto& s : steps) steps_.push_back(std::move(s));
}

std::optional<Step> ScriptQueue::Next() {
  if (steps_.empty()) return std::nullopt;
  if (steps_.front().sticky) return steps_.front();
  Step s = std::move(steps_.front());
  steps_.pop_front();
  return s;
}

Step DefaultStep(const json::object& request) {
  Step s;
  const json::array* messages = Messages(request);
  if (messages && !messages->empty() && Role(messages->back()) == "tool") {
    s.text = "Done.";
    return s;
  }
  std::string last_user;
  if (messages) {
    auto it = std::find_if(messages->rbegin(), messages->rend(),
                           [](const json::value& m) { return Role(m) == "user"; });
    if (it != messages->rend()) last_user = ContentText(*it);
  }
  static const std::regex kCreateFile(R"(create file (\S+))");
  std::smatch match;
  if (std::regex_search(last_user, match, kCreateFile)) {
    s.kind = StepKind::kToolCalls;
    json::object args{{"path", match[1].str()}, {"content", "// created by mock-llm\n"}};
    s.calls.push_back({"", "write_file", json::serialize(args)});
    return s;
  }
  s.text = "Mock reply to: " + Utf8Prefix(last_user, 60);
  return s;
}

void AssignCallIds(Step& step, std::string_view response_id) {
  std::string_view suffix =
      response_id.substr(std::min(response_id.rfind('-') + 1, response_id.size()));
  for (std::size_t i = 0; i < step.calls.size(); ++i) {
    if (step.calls[i].id.empty()) {
      step.calls[i].id = "call_" + std::string(suffix) + "_" + std::to_string(i);
    }
  }
}

Usage UsageFor(const Step& step, const json::object& request) {
  if (step.usage) return *step.usage;
  std::size_t prompt_chars = 0;
  if (const json::array* messages = Messages(request)) {
    for (const auto& m : *messages) prompt_chars += ContentText(m).size();
  }
  std::size_t completion_chars = step.text.size() + step.reasoning.size();
  for (const auto& c : step.calls) completion_chars += c.name.size() + c.arguments.size();
  auto tokens = [](std::size_t chars) { return static_cast<std::int64_t>(chars / 4 + 1); };
  return {tokens(prompt_chars), tokens(completion_chars)};
}

std::vector<std::string> SplitText(std::string_view text, int chunks) {
  if (text.empty()) return {};
  if (chunks > 0) return SplitEven(text, chunks);
  constexpr int kWordsPerChunk = 3;
  std::vector<std::string> out;
  std::size_t start = 0;
  int words = 0;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool space = text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r';
    if (!space && !in_word && words++ == kWordsPerChunk) {
      out.emplace_back(text.substr(start, i - start));  // a chunk keeps its trailing spaces
      start = i;
      words = 1;
    }
    in_word = !space;
  }
  out.emplace_back(text.substr(start));
  return out;
}

std::vector<std::string> SplitEven(std::string_view text, int n) {
  if (text.empty() || n <= 1) return {std::string(text)};
  std::vector<std::string> out;
  std::size_t start = 0;
  for (int k = 1; k <= n && start < text.size(); ++k) {
    std::size_t end = k == n ? text.size() : text.size() * k / n;
    // Never cut inside a UTF-8 sequence.
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = std::max(start, end);
  }
  return out;
}

StreamPlan PlanStream(const Step& step, const ChunkContext& ctx, bool include_usage,
                      const Usage& usage) {
  if (step.kind == StepKind::kFault) return PlanFaultStream(step, ctx);
  StreamPlan plan;
  EventSink sink(ctx, plan.events);
  sink.Pieces("reasoning", SplitText(step.reasoning, step.chunks), step.delay_ms);
  sink.Pieces("content", SplitText(step.text, step.chunks), step.delay_ms);
  AddToolCalls(sink, step);
  const bool tools = step.kind == StepKind::kToolCalls;
  sink.Delta({}, 0, tools ? "tool_calls" : "stop");
  if (include_usage) {
    json::object chunk = ChunkBase(ctx);
    chunk["choices"] = json::array();
    chunk["usage"] = UsageJson(usage);
    sink.Raw(Data(chunk), 0);
  }
  sink.Raw("data: [DONE]\n\n", 0);
  plan.ends_with_done = true;
  return plan;
}

json::object CompletionBody(const Step& step, const ChunkContext& ctx, const Usage& usage) {
  json::object message{{"role", "assistant"}};
  message["content"] =
      step.text.empty() && !step.calls.empty() ? json::value(nullptr) : json::value(step.text);
  if (!step.reasoning.empty()) message["reasoning"] = step.reasoning;
  if (!step.calls.empty()) {
    json::array calls;
    for (const auto& c : step.calls) {
      calls.push_back(json::object{{"id", c.id},
                                   {"type", "function"},
                                   {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    }
    message["tool_calls"] = std::move(calls);
  }
  const bool tools = step.kind == StepKind::kToolCalls;
  return {{"id", ctx.id},
          {"object", "chat.completion"},
          {"created", ctx.created},
          {"model", ctx.model},
          {"choices", json::array{json::object{{"index", 0},
                                               {"message", std::move(message)},
                                               {"finish_reason", tools ? "tool_calls" : "stop"}}}},
          {"usage", UsageJson(usage)}};
}

int FaultStatus(Fault fault) {
  switch (fault) {
    case Fault::kHttp500:
      return 500;
    case Fault::kHttp429:
      return 429;
    case Fault::kHttp400:
      return 400;
    case Fault::kHttp401:
      return 401;
    default:
      return 0;
  }
}

json::object FaultBody(const Step& step) {
  return {{"error", {{"code", FaultStatus(step.fault)}, {"message", step.message}}}};
}

}  // namespace polaris::mockllm
