#pragma once
// The bounds on everything an outsider can make the server hold: connections, memory,
// disk, CPU and AI spend. One process-wide set, read from the environment at start
// (LimitsFromEnv) and set once before serving; every layer reads CurrentLimits().
// docs/security.md lists each one with its default and what it costs at its maximum.
#include <cstdint>
#include <map>
#include <string>

#include "domain/result.h"

namespace polaris {

struct Limits {
  // Connections.
  int max_connections = 10000;     // POLARIS_MAX_CONNECTIONS (also kept below the fd limit)
  int max_streams_per_user = 32;   // POLARIS_MAX_STREAMS_PER_USER: SSE + signed-in sync sockets
  int max_requests_per_user = 64;  // POLARIS_MAX_REQUESTS_PER_USER: HTTP requests in flight
  std::int64_t max_body_bytes = 1 << 20;             // POLARIS_MAX_BODY_BYTES (signed in)
  std::int64_t max_import_bytes = 16 << 20;          // POLARIS_MAX_IMPORT_BYTES (bulk body)
  std::int64_t max_import_file_bytes = 1 << 20;      // POLARIS_MAX_IMPORT_FILE_BYTES (each)
  std::int64_t max_anonymous_body_bytes = 64 << 10;  // POLARIS_MAX_ANONYMOUS_BODY_BYTES
  // AI spend, per user.
  int messages_per_minute = 20;      // POLARIS_MESSAGES_PER_MINUTE
  int ai_calls_per_minute = 60;      // POLARIS_AI_CALLS_PER_MINUTE (suggestion, quick edit)
  int max_active_runs_per_user = 8;  // POLARIS_MAX_ACTIVE_RUNS_PER_USER (queued + executing)
  int max_tool_calls_per_step = 16;  // POLARIS_MAX_TOOL_CALLS_PER_STEP
  std::int64_t max_tool_result_bytes = 32 << 10;  // POLARIS_MAX_TOOL_RESULT_BYTES
  // Quotas.
  int max_projects_per_user = 100;              // POLARIS_MAX_PROJECTS_PER_USER
  int max_files_per_project = 10000;            // POLARIS_MAX_FILES_PER_PROJECT
  int max_conversations_per_project = 1000;     // POLARIS_MAX_CONVERSATIONS_PER_PROJECT
  int max_messages_per_conversation = 2000;     // POLARIS_MAX_MESSAGES_PER_CONVERSATION
  std::int64_t max_project_bytes = 64LL << 20;  // POLARIS_MAX_PROJECT_BYTES
  std::int64_t max_user_bytes = 256LL << 20;    // POLARIS_MAX_USER_BYTES
  // Convex sync WebSocket, per connection.
  std::int64_t ws_max_frame_bytes = 1 << 20;        // POLARIS_WS_MAX_FRAME_BYTES (client frames)
  std::int64_t ws_max_out_frame_bytes = 16 << 20;   // POLARIS_WS_MAX_OUT_FRAME_BYTES
  std::int64_t ws_max_unsent_bytes = 4 << 20;       // POLARIS_WS_MAX_UNSENT_BYTES
  int ws_max_queries = 256;                         // POLARIS_WS_MAX_QUERIES
  std::int64_t ws_max_query_args_bytes = 64 << 10;  // POLARIS_WS_MAX_QUERY_ARGS_BYTES
  int ws_write_timeout_ms = 30000;                  // POLARIS_WS_WRITE_TIMEOUT_MS
  std::int64_t mutation_log_bytes = 64LL << 20;     // POLARIS_MUTATION_LOG_BYTES (all sessions)
  // Storage.
  std::int64_t wal_limit_bytes = 64LL << 20;  // POLARIS_WAL_LIMIT_BYTES
  // Idempotency-Key answers are kept this long.
  std::int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;
};

// Reads every POLARIS_* limit variable over the defaults; a value that is not a positive
// integer is an error naming the variable.
struct LimitsParse {
  Limits limits;
  std::string error;  // empty when every value parsed
};
LimitsParse LimitsFromEnv();

const Limits& CurrentLimits();
// Set once at start-up (and by tests), before any other thread reads the limits.
void SetLimits(const Limits& limits);

// Counts a request or connection refused by a limit; rendered by /metrics as
// polaris_limit_hits_total{limit="<name>"}. Thread-safe.
void CountLimitHit(const std::string& limit);
std::map<std::string, std::uint64_t> LimitHits();

// A limit or quota refused something: counts the hit and returns the error whose body names
// the limit in "limit" (429 with Retry-After for rates, 413/409 for quotas).
Error LimitError(ErrorCode code, std::string message, std::string limit, int retry_after = 0);

}  // namespace polaris
