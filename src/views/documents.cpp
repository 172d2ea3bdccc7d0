#include "views/documents.h"

#include <boost/json/parse.hpp>

namespace polaris::views {
namespace {
// Tool-call args/results are stored as JSON text written by the server itself.
boost::json::value ParseStored(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  return ec ? boost::json::value(text) : v;
}
}  // namespace

boost::json::value ToJson(const Project& p) {
  return {{"_id", p.id},
          {"_creationTime", p.creation_time},
          {"name", p.name},
          {"ownerId", p.owner_id},
          {"updatedAt", p.updated_at}};
}

boost::json::value ToJson(const Conversation& c) {
  return {{"_id", c.id},
          {"_creationTime", c.creation_time},
          {"projectId", c.project_id},
          {"title", c.title},
          {"updatedAt", c.updated_at}};
}

boost::json::value ToJson(const FileNode& f) {
  boost::json::object o{
      {"_id", f.id},    {"_creationTime", f.creation_time}, {"projectId", f.project_id},
      {"name", f.name}, {"type", ToString(f.type)},         {"updatedAt", f.updated_at}};
  if (f.parent_id) o["parentId"] = *f.parent_id;
  if (f.content) o["content"] = *f.content;
  return o;
}

boost::json::value ToJson(const Message& m) {
  boost::json::object o{{"_id", m.id},
                        {"_creationTime", m.creation_time},
                        {"conversationId", m.conversation_id},
                        {"projectId", m.project_id},
                        {"role", ToString(m.role)},
                        {"content", m.content}};
  if (m.status) o["status"] = ToString(*m.status);
  if (m.trigger_run_id) o["triggerRunId"] = *m.trigger_run_id;
  if (m.role == Role::kAssistant && !m.tool_calls.empty()) {
    boost::json::array calls;
    for (const auto& tc : m.tool_calls) {
      boost::json::object c{{"id", tc.id}, {"name", tc.name}, {"args", ParseStored(tc.args_json)}};
      if (tc.result_json) c["result"] = ParseStored(*tc.result_json);
      calls.push_back(std::move(c));
    }
    o["toolCalls"] = std::move(calls);
  }
  if (m.error) o["error"] = *m.error;
  if (m.model) o["model"] = *m.model;
  if (m.usage) {
    o["usage"] = {{"promptTokens", m.usage->prompt_tokens},
                  {"completionTokens", m.usage->completion_tokens}};
  }
  return o;
}

boost::json::value ToJson(const Run& r) {
  boost::json::object o{{"_id", r.id},
                        {"messageId", r.message_id},
                        {"conversationId", r.conversation_id},
                        {"projectId", r.project_id},
                        {"status", ToString(r.status)},
                        {"attempt", r.attempt},
                        {"createdAt", r.created_at}};
  if (r.started_at) o["startedAt"] = *r.started_at;
  if (r.finished_at) o["finishedAt"] = *r.finished_at;
  if (r.provider) o["provider"] = *r.provider;
  if (r.model) o["model"] = *r.model;
  if (r.error) o["error"] = *r.error;
  return o;
}

}  // namespace polaris::views
