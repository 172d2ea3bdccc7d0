#include "agent/checkpoint.h"

#include <boost/json.hpp>

namespace polaris::agent {

std::string Checkpoint::Serialize() const {
  boost::json::object o{{"steps", steps},
                        {"content", content},
                        {"promptTokens", prompt_tokens},
                        {"completionTokens", completion_tokens},
                        {"hasUsage", has_usage},
                        {"model", model},
                        {"transcript", transcript}};
  return boost::json::serialize(o);
}

Checkpoint Checkpoint::Parse(const std::string& text) {
  Checkpoint c;
  if (text.empty()) return c;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return c;
  const auto& o = v.as_object();
  auto num = [&](const char* k) -> std::int64_t {
    auto* p = o.if_contains(k);
    return p && p->is_int64() ? p->as_int64() : 0;
  };
  auto str = [&](const char* k) -> std::string {
    auto* p = o.if_contains(k);
    return p && p->is_string() ? std::string(p->get_string()) : std::string();
  };
  c.steps = static_cast<int>(num("steps"));
  c.content = str("content");
  c.prompt_tokens = num("promptTokens");
  c.completion_tokens = num("completionTokens");
  if (auto* p = o.if_contains("hasUsage"); p && p->is_bool()) c.has_usage = p->get_bool();
  c.model = str("model");
  if (auto* p = o.if_contains("transcript"); p && p->is_array()) c.transcript = p->as_array();
  return c;
}

}  // namespace polaris::agent
