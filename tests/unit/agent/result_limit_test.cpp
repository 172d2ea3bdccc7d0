// Tool results are bounded before they enter the transcript and the message.
#include "agent/result_limit.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace polaris::agent {
namespace {
namespace json = boost::json;

TEST(LimitToolResult, SmallResultsAreUnchanged) {
  json::object r{{"success", true}, {"content", "hello"}};
  EXPECT_EQ(LimitToolResult(r, 1000), r);
}

TEST(LimitToolResult, FileContentIsCutAtACharacterBoundaryWithANote) {
  std::string content;
  for (int i = 0; i < 100000; ++i) content += "\xE2\x82\xAC";  // "€", 3 bytes
  json::object r{{"success", true}, {"content", content}};
  auto out = LimitToolResult(r, 8192);
  EXPECT_LE(json::serialize(out).size(), 8192u);
  std::string kept(out.at("content").as_string());
  EXPECT_GT(kept.size(), 4000u);
  EXPECT_EQ(kept.size() % 3, 0u) << "never half a character";
  EXPECT_EQ(content.compare(0, kept.size(), kept), 0) << "a prefix of the file";
  EXPECT_TRUE(out.at("truncated").as_bool());
  EXPECT_NE(std::string(out.at("note").as_string()).find("300000"), std::string::npos);
}

TEST(LimitToolResult, EscapedContentStillFits) {
  json::object r{{"success", true}, {"content", std::string(50000, '\x01')}};  // \u0001 each
  auto out = LimitToolResult(r, 4096);
  EXPECT_LE(json::serialize(out).size(), 4096u);
}

TEST(LimitToolResult, ListsLoseTheirTailWithACount) {
  json::array paths;
  for (int i = 0; i < 5000; ++i) paths.push_back(json::string("src/file-" + std::to_string(i)));
  json::object r{{"success", true}, {"paths", paths}};
  auto out = LimitToolResult(r, 4096);
  EXPECT_LE(json::serialize(out).size(), 4096u);
  EXPECT_GT(out.at("paths").as_array().size(), 100u);
  EXPECT_NE(std::string(out.at("note").as_string()).find("of 5000"), std::string::npos);
}

TEST(LimitToolResult, AnythingElseIsReplacedBySaying) {
  json::object r{{"success", true}, {"blob", std::string(10000, 'a')}};
  auto out = LimitToolResult(r, 1024);
  EXPECT_LE(json::serialize(out).size(), 1024u);
  EXPECT_TRUE(out.at("success").as_bool());
  EXPECT_FALSE(out.contains("blob"));
}

}  // namespace
}  // namespace polaris::agent
