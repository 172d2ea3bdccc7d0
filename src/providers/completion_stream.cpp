#include "providers/completion_stream.h"

#include <algorithm>
#include <boost/json.hpp>
#include <exception>
#include <utility>

#include "json/json_input.h"

namespace polaris::providers {
namespace json = boost::json;
namespace {

constexpr std::size_t kMaxErrorBytes = 200;
constexpr std::size_t kMaxCodeBytes = 40;
// A real step has a handful of calls; a stream claiming more is broken or hostile.
constexpr std::size_t kMaxToolCalls = 128;
// A step's answer text and tool-call arguments together: a provider that streams forever
// (each token resetting the idle timeout) must not grow a run's memory without end.
constexpr std::size_t kMaxAnswerBytes = 8 << 20;
constexpr std::int64_t kMaxToolCallIndex = 1 << 20;

bool IsSseSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSseSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSseSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Provider text ends up in logs and in the message shown to the user: drop control characters
// (C0, DEL, C1) so it cannot forge log lines or terminal escapes, and keep it short.
std::string Sanitize(std::string_view in, std::size_t max_bytes) {
  std::string out;
  bool space_pending = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    std::size_t len = 1;
    bool control = c < 0x20 || c == 0x7f;
    if (c == 0xC2 && i + 1 < in.size()) {
      const auto next = static_cast<unsigned char>(in[i + 1]);
      if (next >= 0x80 && next <= 0x9f) {
        control = true;
        len = 2;
      }
    } else if (c >= 0xC0) {
      len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    }
    len = std::min(len, in.size() - i);
    if (control || c == ' ') {
      space_pending = !out.empty();
      i += len - 1;
      continue;
    }
    const std::size_t need = len + (space_pending ? 1 : 0);
    if (out.size() + need > max_bytes) {
      out += "...";
      return out;
    }
    if (space_pending) out.push_back(' ');
    space_pending = false;
    out.append(in.substr(i, len));  // whole code point, so truncation never splits one
    i += len - 1;
  }
  return out;
}

std::optional<std::int64_t> AsInt(const json::value& v) {
  boost::system::error_code ec;
  const auto n = v.to_number<std::int64_t>(ec);
  if (ec) return std::nullopt;
  return n;
}

const json::value* Field(const json::object& o, std::string_view key) {
  return o.if_contains(key);
}

const json::string* StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

std::string DescribeError(const json::value& error) {
  std::string code;
  std::string message;
  if (const json::object* obj = error.if_object()) {
    if (const json::value* c = Field(*obj, "code")) {
      if (c->is_string()) {
        code = Sanitize(c->get_string(), kMaxCodeBytes);
      } else if (auto n = AsInt(*c)) {
        code = std::to_string(*n);
      }
    }
    if (const json::string* m = StringField(*obj, "message")) message = *m;
  } else if (const json::string* s = error.if_string()) {
    message = *s;
  }
  std::string out = "provider error";
  if (!code.empty()) out += " " + code;
  message = Sanitize(message, kMaxErrorBytes);
  out += ": ";
  out += message.empty() ? "no message" : message;
  return out;
}

// Merges one delta's tool_calls fragments. Providers differ: most send `index` on every
// fragment, some omit it; id/name usually come only first but may be repeated.
std::optional<std::string> MergeToolCalls(const json::array& fragments,
                                          std::map<std::int64_t, AccumulatedToolCall>& calls,
                                          std::map<std::int64_t, std::int64_t>& index_alias,
                                          std::optional<std::int64_t>& last_call) {
  const auto next_key = [&] { return calls.empty() ? 0 : calls.rbegin()->first + 1; };
  for (std::size_t pos = 0; pos < fragments.size(); ++pos) {
    const json::object* frag = fragments[pos].if_object();
    if (!frag) continue;
    const json::object* function = nullptr;
    if (const json::value* f = Field(*frag, "function")) function = f->if_object();
    const json::string* id = StringField(*frag, "id");
    const json::string* name = function ? StringField(*function, "name") : nullptr;

    std::optional<std::int64_t> index;
    if (const json::value* i = Field(*frag, "index")) {
      index = AsInt(*i);
      if (index && (*index < 0 || *index > kMaxToolCallIndex)) index.reset();
    }
    if (index) {
      const std::int64_t stream_index = *index;
      if (auto alias = index_alias.find(stream_index); alias != index_alias.end()) {
        index = alias->second;
      }
      // Same index but a different id: a provider numbering every call 0. Keep both calls.
      if (auto it = calls.find(*index); it != calls.end() && id && !id->empty() &&
                                        !it->second.id.empty() && it->second.id != *id) {
        const std::int64_t key = next_key();
        index_alias[stream_index] = key;
        index = key;
      }
    } else {
      if (id && !id->empty()) {
        // A fresh id starts a new call; a repeated one continues it.
        for (const auto& [key, call] : calls) {
          if (call.id == *id) index = key;
        }
        if (!index) index = next_key();
      } else if (fragments.size() > 1) {
        index = static_cast<std::int64_t>(pos);
      } else {
        index = last_call.value_or(0);
      }
    }

    auto it = calls.find(*index);
    if (it == calls.end()) {
      if (calls.size() >= kMaxToolCalls) return "too many tool calls in stream";
      it = calls.emplace(*index, AccumulatedToolCall{}).first;
    }
    AccumulatedToolCall& call = it->second;
    last_call = *index;
    // First non-empty id/name wins: some providers repeat them on every fragment.
    if (call.id.empty() && id) call.id = *id;
    if (call.name.empty() && name) call.name = *name;
    if (function) {
      if (const json::value* args = Field(*function, "arguments")) {
        if (const json::string* s = args->if_string()) {
          call.arguments.append(s->data(), s->size());
        } else if (args->is_object()) {
          call.arguments += json::serialize(*args);  // some providers send it already parsed
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

CompletionStream::Update CompletionStream::OnData(std::string_view data) {
  Update update;
  if (error_) {
    update.error = error_;
    return update;
  }
  if (done_) {
    update.done = true;
    return update;
  }
  const std::string_view payload = Trim(data);
  if (payload == "[DONE]") {
    done_ = true;
    update.done = true;
    return update;
  }
  if (payload.empty()) return update;  // nothing to apply; not worth failing the step over

  std::string new_text;
  std::optional<std::string> error;
  try {
    error = Apply(payload, new_text);
  } catch (const std::exception&) {
    error = "could not process stream chunk";  // e.g. bad_alloc; OnData must not throw
  }
  if (!error) {
    std::size_t args = 0;
    for (const auto& [index, call] : calls_) args += call.arguments.size();
    if (text_.size() + new_text.size() + args > kMaxAnswerBytes) {
      error = "the answer is larger than " + std::to_string(kMaxAnswerBytes >> 20) + " MiB";
    }
  }
  if (error) {
    error_ = std::move(error);
    update.error = error_;
    return update;
  }
  text_ += new_text;
  update.text = std::move(new_text);
  return update;
}

std::optional<std::string> CompletionStream::Apply(std::string_view payload,
                                                   std::string& new_text) {
  auto parsed = json_input::Parse(payload);
  const json::object* chunk = parsed ? parsed->if_object() : nullptr;
  if (!chunk) return "malformed stream chunk";

  if (const json::string* model = StringField(*chunk, "model"); model && model_.empty()) {
    model_ = *model;
  }
  if (const json::value* usage = Field(*chunk, "usage")) {
    if (const json::object* u = usage->if_object()) {
      StreamUsage parsed;
      if (const json::value* p = Field(*u, "prompt_tokens"))
        parsed.prompt_tokens = AsInt(*p).value_or(0);
      if (const json::value* c = Field(*u, "completion_tokens")) {
        parsed.completion_tokens = AsInt(*c).value_or(0);
      }
      usage_ = parsed;
    }
  }

  const json::object* choice = nullptr;
  if (const json::value* choices = Field(*chunk, "choices")) {
    if (const json::array* arr = choices->if_array(); arr && !arr->empty()) {
      choice = (*arr)[0].if_object();
    }
  }
  std::optional<std::string> finish;
  if (choice) {
    if (const json::string* f = StringField(*choice, "finish_reason"); f && !f->empty()) {
      finish = std::string(*f);
      finish_reason_ = finish;
    }
  }

  // The error object explains a finish_reason "error" in the same chunk, so it is checked first.
  if (const json::value* error = Field(*chunk, "error"); error && !error->is_null()) {
    return DescribeError(*error);
  }
  if (choice) {
    if (const json::value* error = Field(*choice, "error"); error && !error->is_null()) {
      return DescribeError(*error);
    }
  }
  if (finish == "error") return "provider ended the stream with finish_reason \"error\"";
  if (!choice) return std::nullopt;

  const json::object* delta = nullptr;
  if (const json::value* d = Field(*choice, "delta")) delta = d->if_object();
  if (!delta) return std::nullopt;
  // Only `content` is answer text; `reasoning`, `reasoning_content` and `reasoning_details`
  // are the model's thinking and must never reach the user as the answer.
  if (const json::string* content = StringField(*delta, "content")) {
    new_text.assign(content->data(), content->size());
  }
  if (const json::value* tool_calls = Field(*delta, "tool_calls")) {
    if (const json::array* arr = tool_calls->if_array()) {
      if (auto error = MergeToolCalls(*arr, calls_, index_alias_, last_call_)) return error;
    }
  }
  return std::nullopt;
}

std::optional<std::string> CompletionStream::Finish() const {
  if (error_) return error_;
  if (!finish_reason_ && !done_) return "stream ended without finish_reason";
  // A call without a name cannot be executed; treat the stream as unusable so the step can
  // be retried on another provider instead of failing later in the tool runner.
  for (const auto& [index, call] : calls_) {
    if (call.name.empty()) return "stream has a tool call without a function name";
  }
  return std::nullopt;
}

std::vector<AccumulatedToolCall> CompletionStream::tool_calls() const {
  std::vector<AccumulatedToolCall> out;
  out.reserve(calls_.size());
  for (const auto& [index, call] : calls_) out.push_back(call);
  return out;
}

}  // namespace polaris::providers
#include "json/json_input.h"
