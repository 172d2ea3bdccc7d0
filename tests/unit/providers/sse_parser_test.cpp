#include "providers/sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace polaris::providers {
namespace {

std::vector<SseEvent> FeedWhole(std::string_view bytes) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.Feed(bytes, out);
  return out;
}

std::vector<SseEvent> FeedByteByByte(std::string_view bytes) {
  SseParser parser;
  std::vector<SseEvent> out;
  for (char c : bytes) parser.Feed(std::string_view(&c, 1), out);
  return out;
}

// Every split point of the stream into two Feed calls must give the same events.
void ExpectSameForAllSplits(std::string_view bytes, const std::vector<SseEvent>& expected) {
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    SseParser parser;
    std::vector<SseEvent> out;
    parser.Feed(bytes.substr(0, cut), out);
    parser.Feed(bytes.substr(cut), out);
    ASSERT_EQ(out.size(), expected.size()) << "cut at " << cut;
    for (std::size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i].data, expected[i].data) << "cut at " << cut;
      EXPECT_EQ(out[i].event, expected[i].event) << "cut at " << cut;
      EXPECT_EQ(out[i].id, expected[i].id) << "cut at " << cut;
    }
  }
}

std::vector<std::string> Data(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.data);
  return out;
}

using Strings = std::vector<std::string>;

// Runs each case fed whole, byte by byte and split at every point.
void ExpectData(std::string_view bytes, const Strings& expected) {
  const auto whole = FeedWhole(bytes);
  EXPECT_EQ(Data(whole), expected) << "whole";
  EXPECT_EQ(Data(FeedByteByByte(bytes)), expected) << "byte by byte";
  ExpectSameForAllSplits(bytes, whole);
}

TEST(ProvidersSse, LfLineEndings) {
  ExpectData("data: a\n\ndata: b\n\n", Strings{"a", "b"});
}

TEST(ProvidersSse, CrLfLineEndings) {
  ExpectData("data: a\r\n\r\ndata: b\r\n\r\n", Strings{"a", "b"});
}

TEST(ProvidersSse, LoneCrLineEndings) {
  ExpectData("data: a\r\rdata: b\r\r", Strings{"a", "b"});
}

TEST(ProvidersSse, MixedLineEndings) {
  ExpectData("data: a\r\n\ndata: b\n\r\ndata: c\r\r\n", Strings{"a", "b", "c"});
}

TEST(ProvidersSse, CrAtEndOfFeedAndLfAtStartOfNextIsOneLineEnding) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.Feed("data: a\r", out);
  parser.Feed("\ndata: b\r", out);
  EXPECT_TRUE(out.empty());  // no blank line yet: the LF belonged to the CR
  parser.Feed("\n", out);
  EXPECT_TRUE(out.empty());
  parser.Feed("\r\n", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "a\nb");
}

TEST(ProvidersSse, CrThenEmptyFeedThenLfIsStillOneLineEnding) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.Feed("data: a\r", out);
  parser.Feed("", out);
  parser.Feed("\n", out);
  EXPECT_TRUE(out.empty());
  parser.Feed("\n", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "a");
}

TEST(ProvidersSse, CommentsAreSkipped) {
  ExpectData(": OPENROUTER PROCESSING\n\n:\n\ndata: x\n: inside an event\ndata: y\n\n",
             Strings{"x\ny"});
}

TEST(ProvidersSse, DataWithAndWithoutLeadingSpace) {
  ExpectData("data: a\n\ndata:b\n\ndata:  c\n\ndata:\n\n", Strings{"a", "b", " c", ""});
}

TEST(ProvidersSse, MultiLineDataJoinedWithLf) {
  ExpectData("data: one\ndata:\ndata: three\n\n", Strings{"one\n\nthree"});
}

TEST(ProvidersSse, EventDispatchedOnlyOnBlankLine) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.Feed("data: a\n", out);
  EXPECT_TRUE(out.empty());
  parser.Feed("\n", out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(ProvidersSse, UnterminatedEventAtEndOfStreamIsNotDispatched) {
  EXPECT_TRUE(FeedWhole("data: a\n").empty());
  EXPECT_TRUE(FeedWhole("data: a").empty());
}

TEST(ProvidersSse, EventsWithoutDataAreNotDispatched) {
  const auto events = FeedWhole("event: ping\n\nid: 7\n\nretry: 10\n\n\n\ndata: x\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "x");
  EXPECT_EQ(events[0].event, "message");  // the dropped event's type does not leak
  EXPECT_EQ(events[0].id, "7");           // but the last event id persists (WHATWG)
}

TEST(ProvidersSse, EventAndIdFields) {
  const std::string_view stream =
      "event: update\nid: 1\ndata: a\n\ndata: b\n\nid\nevent:done\ndata: c\n\n";
  const auto events = FeedWhole(stream);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].event, "update");
  EXPECT_EQ(events[0].id, "1");
  EXPECT_EQ(events[1].event, "message");
  EXPECT_EQ(events[1].id, "1");
  EXPECT_EQ(events[2].event, "done");
  EXPECT_EQ(events[2].id, "");  // a bare `id` line resets the last event id
  ExpectSameForAllSplits(stream, events);
  EXPECT_EQ(Data(FeedByteByByte(stream)), Data(events));
}

TEST(ProvidersSse, IdContainingNulIsIgnored) {
  const auto events = FeedWhole(std::string_view("id: 1\n\nid: a\0b\ndata: x\n\n", 24));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "1");
}

TEST(ProvidersSse, UnknownFieldsAndFieldsWithoutColonAreIgnored) {
  ExpectData("foo: bar\ndata: a\nDATA: no\nData: no\nretry: 5\nx\ndata\n\n", Strings{"a\n"});
}

TEST(ProvidersSse, ColonsInValueAreKept) {
  ExpectData("data: {\"a\":\"b:c\"}\n\n", Strings{"{\"a\":\"b:c\"}"});
}

TEST(ProvidersSse, LeadingBomIsStripped) {
  ExpectData(
      "\xEF\xBB\xBF"
      "data: a\n\n",
      Strings{"a"});
  // Only at the very start, and only one.
  ExpectData(
      "\xEF\xBB\xBF\xEF\xBB\xBF"
      "data: a\n\ndata: b\n\n",
      Strings{"b"});
}

TEST(ProvidersSse, BomLikePrefixThatIsNotABomIsKept) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.Feed("\xEF\xBB", out);
  parser.Feed("x\ndata: a\n\n", out);  // the line "\xEF\xBBx" is an unknown field
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "a");
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(ProvidersSse, NonAsciiDataPassesThrough) {
  ExpectData("data: h\xC3\xA9llo \xF0\x9F\x98\x80\n\n", Strings{"h\xC3\xA9llo \xF0\x9F\x98\x80"});
}

TEST(ProvidersSse, ProgressCountsFieldLinesButNotComments) {
  SseParser parser;
  std::vector<SseEvent> out;
  EXPECT_FALSE(parser.TakeProgress());
  parser.Feed(": OPENROUTER PROCESSING\n\n", out);
  EXPECT_FALSE(parser.TakeProgress());
  parser.Feed("\n\n\r\n", out);
  EXPECT_FALSE(parser.TakeProgress());
  parser.Feed("data: {\"a\"", out);  // incomplete line: not yet progress
  EXPECT_FALSE(parser.TakeProgress());
  parser.Feed("}\n", out);
  EXPECT_TRUE(parser.TakeProgress());
  EXPECT_FALSE(parser.TakeProgress());  // taken
  parser.Feed("\n", out);
  EXPECT_FALSE(parser.TakeProgress());
  EXPECT_EQ(out.size(), 1u);
}

TEST(ProvidersSse, BufferedCoversIncompleteLineAndPendingEvent) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.Feed("data: abc", out);
  EXPECT_EQ(parser.buffered(), 9u);
  parser.Feed("def\n", out);
  EXPECT_EQ(parser.buffered(), 7u);  // "abcdef\n" waiting for the blank line
  parser.Feed("\n", out);
  EXPECT_EQ(parser.buffered(), 0u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, "abcdef");
}

TEST(ProvidersSse, LongLineAcrossManyFeeds) {
  SseParser parser;
  std::vector<SseEvent> out;
  std::string expected;
  parser.Feed("data: ", out);
  for (int i = 0; i < 1000; ++i) {
    parser.Feed("0123456789", out);
    expected += "0123456789";
  }
  parser.Feed("\r\n\r\n", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, expected);
}

}  // namespace
}  // namespace polaris::providers
