// Structured log lines: valid JSON whatever the text holds, typed fields, level filtering.
#include "domain/log.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace polaris {
namespace {
namespace json = boost::json;

TEST(Log, ALineIsOneJsonObjectWithTimeLevelMessageAndFields) {
  const std::string line = FormatLogLine(1764550923456, LogLevel::kWarn, "run failed",
                                         {{"run", "run_1"},
                                          {"attempt", 2},
                                          {"seconds", 1.5},
                                          {"unavailable", true},
                                          {"empty", std::string()}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto v = json::parse(line).as_object();
  EXPECT_EQ(v.at("time").as_string(), "2025-12-01T01:02:03.456Z");
  EXPECT_EQ(v.at("level").as_string(), "warn");
  EXPECT_EQ(v.at("msg").as_string(), "run failed");
  EXPECT_EQ(v.at("run").as_string(), "run_1");
  EXPECT_EQ(v.at("attempt").as_int64(), 2);
  EXPECT_DOUBLE_EQ(v.at("seconds").as_double(), 1.5);
  EXPECT_TRUE(v.at("unavailable").as_bool());
  EXPECT_EQ(v.at("empty").as_string(), "");
}

TEST(Log, HostileTextStaysInsideItsString) {
  const std::string nasty = "a\"b\\c\nd\r\te\x01\x7f\xc3\xa9";
  const std::string line = FormatLogLine(0, LogLevel::kError, nasty, {{"error", nasty}});
  EXPECT_EQ(line.find('\n'), std::string::npos) << "a newline would forge a second line";
  auto v = json::parse(line).as_object();
  EXPECT_EQ(v.at("msg").as_string(), nasty);
  EXPECT_EQ(v.at("error").as_string(), nasty);
}

TEST(Log, LevelsFilterAndParse) {
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("warning"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("verbose"), std::nullopt);
  std::vector<std::string> lines;
  SetLogSink([&](std::string_view l) { lines.emplace_back(l); });
  SetLogLevel(LogLevel::kWarn);
  LogDebug("hidden");
  LogInfo("hidden too");
  LogWarn("shown", {{"request", "req-1"}});
  LogError("shown too");
  SetLogLevel(LogLevel::kInfo);
  SetLogSink({});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(json::parse(lines[0]).as_object().at("request").as_string(), "req-1");
  EXPECT_EQ(json::parse(lines[1]).as_object().at("level").as_string(), "error");
}

}  // namespace
}  // namespace polaris

namespace polaris {
namespace {
TEST(Log, DescribeExceptionGivesTheCause) {
  EXPECT_EQ(DescribeException(std::make_exception_ptr(std::runtime_error("disk full"))),
            "disk full");
  EXPECT_EQ(DescribeException(std::make_exception_ptr(42)), "unknown error");
  EXPECT_EQ(DescribeException(nullptr), "");
}
}  // namespace
}  // namespace polaris
