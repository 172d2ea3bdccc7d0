#pragma once
// Structured logs: one JSON object per line on stderr, {"time", "level", "msg", fields...},
// each line carrying the id of the request or run it is about. `--log-level` (or
// POLARIS_LOG_LEVEL) sets the least level written; lines below it cost one comparison.
#include <concepts>
#include <exception>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace polaris {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError };

// "debug", "info", "warn" (or "warning"), "error"; nullopt for anything else.
std::optional<LogLevel> ParseLogLevel(std::string_view name);
std::string_view LogLevelName(LogLevel level);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// One field of a line: a key and a text, whole number, number or boolean.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) LogField(std::string_view k, T v)
      : key(k), value(static_cast<long long>(v)) {}

  std::string_view key;
  std::variant<std::string_view, long long, double, bool> value;
};

// Writes one line when `level` is enabled. Thread-safe; a line is written whole.
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
inline void LogDebug(std::string_view msg, std::initializer_list<LogField> fields = {}) {
  if (LogEnabled(LogLevel::kDebug)) Log(LogLevel::kDebug, msg, fields);
}
inline void LogInfo(std::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kInfo, msg, fields);
}
inline void LogWarn(std::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kWarn, msg, fields);
}
inline void LogError(std::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kError, msg, fields);
}

// The message of a caught exception, for a log field ("unknown error" when it is not a
// std::exception).
std::string DescribeException(const std::exception_ptr& e);

// The line as it would be written (no newline), for tests and for Log itself.
std::string FormatLogLine(long long unix_millis, LogLevel level, std::string_view msg,
                          std::initializer_list<LogField> fields);
// Where lines go instead of stderr (tests); an empty function restores stderr.
void SetLogSink(std::function<void(std::string_view line)> sink);

}  // namespace polaris
