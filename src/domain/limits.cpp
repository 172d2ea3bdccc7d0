#include "domain/limits.h"

#include <limits>
#include <mutex>

#include "domain/env.h"

namespace polaris {
namespace {
Limits g_limits;
std::mutex g_hits_mu;
std::map<std::string, std::uint64_t> g_hits;

// Reads a positive integer variable into *out; false (and error set) when malformed.
template <class T>
bool ReadEnv(const char* name, T* out, std::string& error) {
  auto v = EnvInteger(name);
  if (v && !*v) return true;  // unset: the default stays
  if (!v || **v < 1 || **v > static_cast<long long>(std::numeric_limits<T>::max())) {
    if (error.empty()) error = std::string(name) + " must be a positive integer";
    return false;
  }
  *out = static_cast<T>(**v);
  return true;
}
}  // namespace

LimitsParse LimitsFromEnv() {
  LimitsParse p;
  Limits& l = p.limits;
  std::string& e = p.error;
  ReadEnv("POLARIS_MAX_CONNECTIONS", &l.max_connections, e);
  ReadEnv("POLARIS_MAX_STREAMS_PER_USER", &l.max_streams_per_user, e);
  ReadEnv("POLARIS_MAX_REQUESTS_PER_USER", &l.max_requests_per_user, e);
  ReadEnv("POLARIS_MAX_BODY_BYTES", &l.max_body_bytes, e);
  ReadEnv("POLARIS_MAX_IMPORT_BYTES", &l.max_import_bytes, e);
  ReadEnv("POLARIS_MAX_IMPORT_FILE_BYTES", &l.max_import_file_bytes, e);
  ReadEnv("POLARIS_MAX_ANONYMOUS_BODY_BYTES", &l.max_anonymous_body_bytes, e);
  ReadEnv("POLARIS_MESSAGES_PER_MINUTE", &l.messages_per_minute, e);
  ReadEnv("POLARIS_AI_CALLS_PER_MINUTE", &l.ai_calls_per_minute, e);
  ReadEnv("POLARIS_MAX_ACTIVE_RUNS_PER_USER", &l.max_active_runs_per_user, e);
  ReadEnv("POLARIS_MAX_TOOL_CALLS_PER_STEP", &l.max_tool_calls_per_step, e);
  ReadEnv("POLARIS_MAX_TOOL_RESULT_BYTES", &l.max_tool_result_bytes, e);
  ReadEnv("POLARIS_MAX_PROJECTS_PER_USER", &l.max_projects_per_user, e);
  ReadEnv("POLARIS_MAX_FILES_PER_PROJECT", &l.max_files_per_project, e);
  ReadEnv("POLARIS_MAX_CONVERSATIONS_PER_PROJECT", &l.max_conversations_per_project, e);
  ReadEnv("POLARIS_MAX_MESSAGES_PER_CONVERSATION", &l.max_messages_per_conversation, e);
  ReadEnv("POLARIS_MAX_PROJECT_BYTES", &l.max_project_bytes, e);
  ReadEnv("POLARIS_MAX_USER_BYTES", &l.max_user_bytes, e);
  ReadEnv("POLARIS_WS_MAX_FRAME_BYTES", &l.ws_max_frame_bytes, e);
  ReadEnv("POLARIS_WS_MAX_OUT_FRAME_BYTES", &l.ws_max_out_frame_bytes, e);
  ReadEnv("POLARIS_WS_MAX_UNSENT_BYTES", &l.ws_max_unsent_bytes, e);
  ReadEnv("POLARIS_WS_MAX_QUERIES", &l.ws_max_queries, e);
  ReadEnv("POLARIS_WS_MAX_QUERY_ARGS_BYTES", &l.ws_max_query_args_bytes, e);
  ReadEnv("POLARIS_WS_WRITE_TIMEOUT_MS", &l.ws_write_timeout_ms, e);
  ReadEnv("POLARIS_MUTATION_LOG_BYTES", &l.mutation_log_bytes, e);
  ReadEnv("POLARIS_WAL_LIMIT_BYTES", &l.wal_limit_bytes, e);
  return p;
}

const Limits& CurrentLimits() {
  return g_limits;
}

void SetLimits(const Limits& limits) {
  g_limits = limits;
}

void CountLimitHit(const std::string& limit) {
  std::lock_guard lock(g_hits_mu);
  ++g_hits[limit];
}

Error LimitError(ErrorCode code, std::string message, std::string limit, int retry_after) {
  CountLimitHit(limit);
  Error e{code, std::move(message), {{"limit", std::move(limit)}}, retry_after};
  return e;
}

std::map<std::string, std::uint64_t> LimitHits() {
  std::lock_guard lock(g_hits_mu);
  return g_hits;
}

}  // namespace polaris
