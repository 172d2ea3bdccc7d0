#include "agent/checkpoint.h"

#include <boost/json.hpp>

namespace polaris::agent {
namespace json = boost::json;

namespace {
std::optional<std::string> StringAt(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::optional<TranscriptCall> CallFromWire(const json::value& v) {
  if (!v.is_object()) return std::nullopt;
  auto id = StringAt(v.get_object(), "id");
  const auto* fn = v.get_object().if_contains("function");
  if (!id || !fn || !fn->is_object()) return std::nullopt;
  auto name = StringAt(fn->get_object(), "name");
  auto arguments = StringAt(fn->get_object(), "arguments");
  if (!name || !arguments) return std::nullopt;
  return TranscriptCall{std::move(*id), std::move(*name), std::move(*arguments)};
}
}  // namespace

std::optional<std::size_t> Transcript::LastToolStep() const {
  for (std::size_t i = entries_.size(); i-- > 0;) {
    const auto* step = std::get_if<AssistantStep>(&entries_[i]);
    if (!step) continue;
    if (step->calls.empty()) return std::nullopt;
    return i;
  }
  return std::nullopt;
}

bool Transcript::Answered(std::size_t from, std::string_view id) const {
  for (std::size_t i = from + 1; i < entries_.size(); ++i) {
    const auto* r = std::get_if<ToolResult>(&entries_[i]);
    if (r && r->call_id == id) return true;
  }
  return false;
}

std::set<std::string> Transcript::CallIds() const {
  std::set<std::string> ids;
  for (const auto* c : Calls()) ids.insert(c->id);
  return ids;
}

std::vector<const TranscriptCall*> Transcript::Calls() const {
  std::vector<const TranscriptCall*> out;
  for (const auto& e : entries_) {
    if (const auto* step = std::get_if<AssistantStep>(&e)) {
      for (const auto& c : step->calls) out.push_back(&c);
    }
  }
  return out;
}

json::array Transcript::ToWire() const {
  json::array out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) {
    if (const auto* step = std::get_if<AssistantStep>(&e)) {
      json::array calls;
      for (const auto& c : step->calls) {
        calls.push_back({{"id", c.id},
                         {"type", "function"},
                         {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
      }
      json::object m{{"role", "assistant"}, {"tool_calls", std::move(calls)}};
      m["content"] = step->text.empty() ? json::value(nullptr) : json::value(step->text);
      out.push_back(std::move(m));
    } else {
      const auto& r = std::get<ToolResult>(e);
      out.push_back({{"role", "tool"}, {"tool_call_id", r.call_id}, {"content", r.content}});
    }
  }
  return out;
}

Transcript Transcript::FromWire(const json::array& wire) {
  Transcript t;
  std::set<std::string> announced;
  for (const auto& v : wire) {
    if (!v.is_object()) break;
    const auto& m = v.get_object();
    auto role = StringAt(m, "role");
    if (role == "assistant") {
      const auto* calls = m.if_contains("tool_calls");
      if (!calls || !calls->is_array()) break;
      AssistantStep step;
      if (auto text = StringAt(m, "content")) step.text = std::move(*text);
      bool whole = true;
      for (const auto& c : calls->get_array()) {
        auto call = CallFromWire(c);
        if (!call) {
          whole = false;
          break;
        }
        announced.insert(call->id);
        step.calls.push_back(std::move(*call));
      }
      if (!whole) break;
      t.Add(std::move(step));
    } else if (role == "tool") {
      auto id = StringAt(m, "tool_call_id");
      auto content = StringAt(m, "content");
      if (!id || !content || !announced.count(*id)) break;
      t.Add(ToolResult{std::move(*id), std::move(*content)});
    } else {
      break;
    }
  }
  return t;
}

std::string Checkpoint::Serialize() const {
  json::object o{{"steps", steps},
                 {"content", content},
                 {"promptTokens", prompt_tokens},
                 {"completionTokens", completion_tokens},
                 {"hasUsage", has_usage},
                 {"model", model},
                 {"transcript", transcript.ToWire()}};
  return json::serialize(o);
}

Checkpoint Checkpoint::Parse(const std::string& text) {
  Checkpoint c;
  if (text.empty()) return c;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return c;
  const auto& o = v.as_object();
  auto num = [&](const char* k) -> std::int64_t {
    auto* p = o.if_contains(k);
    return p && p->is_int64() ? p->as_int64() : 0;
  };
  c.steps = static_cast<int>(num("steps"));
  c.content = StringAt(o, "content").value_or("");
  c.prompt_tokens = num("promptTokens");
  c.completion_tokens = num("completionTokens");
  if (auto* p = o.if_contains("hasUsage"); p && p->is_bool()) c.has_usage = p->get_bool();
  c.model = StringAt(o, "model").value_or("");
  if (auto* p = o.if_contains("transcript"); p && p->is_array()) {
    c.transcript = Transcript::FromWire(p->get_array());
  }
  return c;
}

}  // namespace polaris::agent
