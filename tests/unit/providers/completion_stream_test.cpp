#include "providers/completion_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "providers/sse_parser.h"

namespace polaris::providers {
namespace {

// Feeds a raw SSE byte stream through the parser into a CompletionStream, in chunks of
// `chunk` bytes, the way the HTTP client will. Returns the text reported by the updates.
std::string RunStream(std::string_view bytes, CompletionStream& stream, std::size_t chunk = 0,
                      std::vector<CompletionStream::Update>* updates = nullptr) {
  SseParser parser;
  std::string text;
  if (chunk == 0) chunk = bytes.size();
  for (std::size_t pos = 0; pos < bytes.size(); pos += chunk) {
    std::vector<SseEvent> events;
    parser.Feed(bytes.substr(pos, chunk), events);
    for (const auto& event : events) {
      auto update = stream.OnData(event.data);
      text += update.text;
      if (updates) updates->push_back(update);
    }
  }
  return text;
}

constexpr std::string_view kOpenRouterStream =
    ": OPENROUTER PROCESSING\n\n"
    ": OPENROUTER PROCESSING\n\n"
    R"(data: {"id":"gen-1","object":"chat.completion.chunk","model":"moonshotai/kimi-k2.5","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})"
    "\n\n"
    R"(data: {"id":"gen-1","model":"moonshotai/kimi-k2.5","choices":[{"index":0,"delta":{"content":"Let me "},"finish_reason":null}]})"
    "\n\n"
    R"(data: {"id":"gen-1","model":"moonshotai/kimi-k2.5","choices":[{"index":0,"delta":{"content":"check.","reasoning":null},"finish_reason":null}]})"
    "\n\n"
    ": OPENROUTER PROCESSING\n\n"
    R"(data: {"id":"gen-1","choices":[{"index":0,"delta":{"content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"read_file","arguments":""}}]}}]})"
    "\n\n"
    R"(data: {"id":"gen-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"pa"}}]}}]})"
    "\n\n"
    R"(data: {"id":"gen-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"","function":{"name":"list_files","arguments":"{\"dir"}}]}}]})"
    "\n\n"
    R"(data: {"id":"gen-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"th\":\"src/"}}]}}]})"
    "\n\n"
    R"(data: {"id":"gen-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\":\"/\"}"}}]}}]})"
    "\n\n"
    R"(data: {"id":"gen-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"main.cpp"}}]}}]})"
    "\n\n"
    R"(data: {"id":"gen-1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"}"}}]}}]})"
    "\n\n"
    R"(data: {"id":"gen-1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls","native_finish_reason":"tool_calls"}]})"
    "\n\n"
    R"(data: {"id":"gen-1","choices":[],"usage":{"prompt_tokens":1234,"completion_tokens":56,"total_tokens":1290,"cost":0.0012}})"
    "\n\n"
    "data: [DONE]\n\n";

void ExpectOpenRouterResult(const CompletionStream& stream) {
  EXPECT_EQ(stream.text(), "Let me check.");
  EXPECT_EQ(stream.model(), "moonshotai/kimi-k2.5");
  ASSERT_TRUE(stream.finish_reason().has_value());
  EXPECT_EQ(*stream.finish_reason(), "tool_calls");
  ASSERT_TRUE(stream.usage().has_value());
  EXPECT_EQ(stream.usage()->prompt_tokens, 1234);
  EXPECT_EQ(stream.usage()->completion_tokens, 56);
  const auto calls = stream.tool_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].id, "call_a");
  EXPECT_EQ(calls[0].name, "read_file");
  EXPECT_EQ(calls[0].arguments, R"({"path":"src/main.cpp"})");
  EXPECT_EQ(calls[1].id, "call_b");
  EXPECT_EQ(calls[1].name, "list_files");
  EXPECT_EQ(calls[1].arguments, R"({"dir":"/"})");
  EXPECT_EQ(stream.Finish(), std::nullopt);
}

TEST(ProvidersCompletion, OpenRouterStreamWithParallelSplitToolCalls) {
  CompletionStream stream;
  std::vector<CompletionStream::Update> updates;
  EXPECT_EQ(RunStream(kOpenRouterStream, stream, 0, &updates), "Let me check.");
  ASSERT_FALSE(updates.empty());
  EXPECT_TRUE(updates.back().done);
  for (const auto& u : updates) EXPECT_FALSE(u.error.has_value());
  ExpectOpenRouterResult(stream);
}

TEST(ProvidersCompletion, OpenRouterStreamFedByteByByte) {
  CompletionStream stream;
  EXPECT_EQ(RunStream(kOpenRouterStream, stream, 1), "Let me check.");
  ExpectOpenRouterResult(stream);
}

TEST(ProvidersCompletion, OpenRouterStreamWithCrLfInOddChunks) {
  std::string crlf;
  for (char c : kOpenRouterStream) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  CompletionStream stream;
  EXPECT_EQ(RunStream(crlf, stream, 7), "Let me check.");
  ExpectOpenRouterResult(stream);
}

TEST(ProvidersCompletion, CerebrasReasoningNeverBecomesText) {
  constexpr std::string_view kStream =
      R"(data: {"id":"c1","model":"zai-glm-4.7","choices":[{"index":0,"delta":{"role":"assistant","reasoning":"The user wants"}}]})"
      "\n\n"
      R"(data: {"id":"c1","choices":[{"index":0,"delta":{"reasoning":" a greeting."}}]})"
      "\n\n"
      R"(data: {"id":"c1","choices":[{"index":0,"delta":{"reasoning_content":"hidden","reasoning_details":[{"type":"reasoning.text","text":"hidden"}]}}]})"
      "\n\n"
      R"(data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hello","reasoning":"more"}}]})"
      "\n\n"
      R"(data: {"id":"c1","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":20}})"
      "\n\n"
      "data: [DONE]\n\n";
  CompletionStream stream;
  EXPECT_EQ(RunStream(kStream, stream), "Hello!");
  EXPECT_EQ(stream.text(), "Hello!");
  EXPECT_EQ(stream.model(), "zai-glm-4.7");
  EXPECT_EQ(stream.finish_reason(), "stop");
  ASSERT_TRUE(stream.usage().has_value());
  EXPECT_EQ(stream.usage()->completion_tokens, 20);
  EXPECT_TRUE(stream.tool_calls().empty());
  EXPECT_EQ(stream.Finish(), std::nullopt);
}

TEST(ProvidersCompletion, InStreamErrorChunkFailsTheStep) {
  constexpr std::string_view kStream =
      R"(data: {"choices":[{"index":0,"delta":{"content":"Partial"}}]})"
      "\n\n"
      R"(data: {"id":"x","error":{"code":502,"message":"Upstream\ndisconnected\u0007 unexpectedly","metadata":{"raw":"..."}},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]})"
      "\n\n";
  CompletionStream stream;
  std::vector<CompletionStream::Update> updates;
  RunStream(kStream, stream, 0, &updates);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].text, "Partial");
  ASSERT_TRUE(updates[1].error.has_value());
  EXPECT_EQ(*updates[1].error, "provider error 502: Upstream disconnected unexpectedly");
  EXPECT_EQ(stream.Finish(), updates[1].error);
  EXPECT_EQ(stream.finish_reason(), "error");
  // Sticky: later payloads are ignored and report the same failure.
  auto later = stream.OnData(R"({"choices":[{"delta":{"content":"more"}}]})");
  EXPECT_EQ(later.error, updates[1].error);
  EXPECT_EQ(later.text, "");
  EXPECT_EQ(stream.text(), "Partial");
}

TEST(ProvidersCompletion, ErrorWithStringCodeAndLongMessageIsShortened) {
  CompletionStream stream;
  const std::string message(1000, 'x');
  auto update =
      stream.OnData(R"({"error":{"code":"server_error","message":")" + message + R"("}})");
  ASSERT_TRUE(update.error.has_value());
  EXPECT_EQ(update.error->rfind("provider error server_error: xxx", 0), 0u);
  EXPECT_LT(update.error->size(), 260u);
  EXPECT_EQ(update.error->substr(update.error->size() - 3), "...");
}

TEST(ProvidersCompletion, ErrorTruncationKeepsUtf8Whole) {
  CompletionStream stream;
  std::string message;
  for (int i = 0; i < 300; ++i) message += "\xC3\xA9";  // é
  auto update = stream.OnData(R"({"error":{"message":")" + message + R"("}})");
  ASSERT_TRUE(update.error.has_value());
  const std::string& e = *update.error;
  EXPECT_EQ(e.rfind("provider error: ", 0), 0u);
  const std::string body = e.substr(16, e.size() - 16 - 3);
  EXPECT_EQ(body.size() % 2, 0u);
  for (std::size_t i = 0; i < body.size(); i += 2) EXPECT_EQ(body.substr(i, 2), "\xC3\xA9");
}

TEST(ProvidersCompletion, ErrorStripsC1ControlsAndEscapes) {
  CompletionStream stream;
  auto update =
      stream.OnData(R"({"error":{"code":429,"message":"\u001b[31mrate\u009b limited\t"}})");
  ASSERT_TRUE(update.error.has_value());
  EXPECT_EQ(*update.error, "provider error 429: [31mrate limited");
}

TEST(ProvidersCompletion, FinishReasonErrorWithoutErrorObjectFails) {
  CompletionStream stream;
  auto update = stream.OnData(R"({"choices":[{"delta":{},"finish_reason":"error"}]})");
  ASSERT_TRUE(update.error.has_value());
  EXPECT_TRUE(stream.Finish().has_value());
}

TEST(ProvidersCompletion, MalformedJsonFailsTheStep) {
  for (std::string_view bad : {R"({"choices":[{"delta":{"content":"a"})", "not json", "[1,2]",
                               "\"text\"", "42", R"({"a":1} trailing)"}) {
    CompletionStream stream;
    auto update = stream.OnData(bad);
    ASSERT_TRUE(update.error.has_value()) << bad;
    EXPECT_EQ(*update.error, "malformed stream chunk") << bad;
    EXPECT_EQ(stream.Finish(), "malformed stream chunk");
  }
}

TEST(ProvidersCompletion, DeeplyNestedJsonIsRejectedWithoutCrashing) {
  std::string deep = R"({"x":)";
  for (int i = 0; i < 10000; ++i) deep += "[";
  CompletionStream stream;
  auto update = stream.OnData(deep);
  EXPECT_EQ(update.error, "malformed stream chunk");
}

TEST(ProvidersCompletion, EndWithoutFinishReasonOrDoneIsAFailure) {
  constexpr std::string_view kStream =
      R"(data: {"choices":[{"index":0,"delta":{"content":"Half an ans"}}]})"
      "\n\n";
  CompletionStream stream;
  EXPECT_EQ(RunStream(kStream, stream), "Half an ans");
  EXPECT_EQ(stream.Finish(), "stream ended without finish_reason");
}

TEST(ProvidersCompletion, EmptyStreamIsAFailure) {
  CompletionStream stream;
  EXPECT_EQ(stream.Finish(), "stream ended without finish_reason");
}

TEST(ProvidersCompletion, ToolCallsFinishWithoutDoneIsOk) {
  constexpr std::string_view kStream =
      R"(data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"run","arguments":"{}"}}]}}]})"
      "\n\n"
      R"(data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"
      "\n\n";
  CompletionStream stream;
  RunStream(kStream, stream);
  EXPECT_EQ(stream.Finish(), std::nullopt);
  ASSERT_EQ(stream.tool_calls().size(), 1u);
  EXPECT_EQ(stream.tool_calls()[0].arguments, "{}");
}

TEST(ProvidersCompletion, DoneWithoutFinishReasonIsOk) {
  CompletionStream stream;
  stream.OnData(R"({"choices":[{"delta":{"content":"hi"}}]})");
  auto update = stream.OnData("  [DONE] \r\n");
  EXPECT_TRUE(update.done);
  EXPECT_EQ(stream.Finish(), std::nullopt);
  EXPECT_FALSE(stream.finish_reason().has_value());
  // Anything after [DONE] is ignored.
  auto after = stream.OnData(R"({"choices":[{"delta":{"content":"late"}}]})");
  EXPECT_TRUE(after.done);
  EXPECT_EQ(after.text, "");
  EXPECT_EQ(stream.text(), "hi");
}

TEST(ProvidersCompletion, ChunksWithEmptyOrMissingChoicesAndUnknownFieldsAreFine) {
  CompletionStream stream;
  for (std::string_view ok :
       {R"({"choices":[]})", R"({})",
        R"({"choices":null,"provider":"x","system_fingerprint":null})",
        R"({"choices":[{"delta":null}]})", R"({"choices":[{"delta":{"content":null}}]})",
        R"({"choices":[{"delta":{"role":"assistant","refusal":null,"extra":{"a":[1]}}}]})",
        R"({"usage":null,"error":null})"}) {
    auto update = stream.OnData(ok);
    EXPECT_FALSE(update.error.has_value()) << ok;
    EXPECT_EQ(update.text, "") << ok;
  }
  EXPECT_FALSE(stream.usage().has_value());
  EXPECT_TRUE(stream.tool_calls().empty());
}

TEST(ProvidersCompletion, ToolCallIdAndNameRepeatedOnEveryFragmentAreNotDuplicated) {
  CompletionStream stream;
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"edit","arguments":"{\"a\":"}}]}}]})");
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"edit","arguments":"1}"}}]}}]})");
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"","type":"","function":{"name":"","arguments":""}}]}}]})");
  const auto calls = stream.tool_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].id, "c1");
  EXPECT_EQ(calls[0].name, "edit");
  EXPECT_EQ(calls[0].arguments, R"({"a":1})");
}

TEST(ProvidersCompletion, ToolCallWithoutIndexSingleCall) {
  CompletionStream stream;
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"id":"c1","function":{"name":"ls","arguments":"{\"p"}}]}}]})");
  stream.OnData(R"({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"\":1}"}}]}}]})");
  stream.OnData(R"({"choices":[{"finish_reason":"tool_calls"}]})");
  const auto calls = stream.tool_calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].name, "ls");
  EXPECT_EQ(calls[0].arguments, R"({"p":1})");
  EXPECT_EQ(stream.Finish(), std::nullopt);
}

TEST(ProvidersCompletion, ToolCallsWithoutIndexByIdOrPosition) {
  CompletionStream stream;
  // Whole calls without index, each with its own id, in separate chunks.
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"id":"a","function":{"name":"one","arguments":"{}"}}]}}]})");
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"id":"b","function":{"name":"two","arguments":"{}"}}]}}]})");
  auto calls = stream.tool_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].name, "one");
  EXPECT_EQ(calls[1].name, "two");

  // Several id-less fragments in one delta go by position.
  CompletionStream positional;
  positional.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"function":{"name":"x","arguments":"{"}},{"function":{"name":"y","arguments":"["}}]}}]})");
  positional.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"}"}},{"function":{"arguments":"]"}}]}}]})");
  calls = positional.tool_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].arguments, "{}");
  EXPECT_EQ(calls[1].arguments, "[]");
}

TEST(ProvidersCompletion, ProviderReusingIndexZeroForParallelCallsKeepsBoth) {
  CompletionStream stream;
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"one","arguments":"{}"}}]}}]})");
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"b","function":{"name":"two","arguments":"{\"x\""}}]}}]})");
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}}]})");
  const auto calls = stream.tool_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].arguments, "{}");
  EXPECT_EQ(calls[1].id, "b");
  EXPECT_EQ(calls[1].arguments, R"({"x":1})");
}

TEST(ProvidersCompletion, ToolCallsOrderedByIndexNotArrival) {
  CompletionStream stream;
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"index":2,"id":"c","function":{"name":"third"}}]}}]})");
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"first"}}]}}]})");
  const auto calls = stream.tool_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].name, "first");
  EXPECT_EQ(calls[1].name, "third");
}

TEST(ProvidersCompletion, ArgumentsSentAsObjectAreSerialized) {
  CompletionStream stream;
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":{"k":"v"}}}]}}]})");
  ASSERT_EQ(stream.tool_calls().size(), 1u);
  EXPECT_EQ(stream.tool_calls()[0].arguments, R"({"k":"v"})");
}

TEST(ProvidersCompletion, ToolCallWithoutNameFailsFinish) {
  CompletionStream stream;
  stream.OnData(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]})");
  stream.OnData(R"({"choices":[{"finish_reason":"tool_calls"}]})");
  EXPECT_EQ(stream.Finish(), "stream has a tool call without a function name");
}

TEST(ProvidersCompletion, TooManyToolCallsFails) {
  CompletionStream stream;
  std::optional<std::string> error;
  for (int i = 0; i < 200 && !error; ++i) {
    error = stream
                .OnData(R"({"choices":[{"delta":{"tool_calls":[{"index":)" + std::to_string(i) +
                        R"(,"id":"x","function":{"name":"f"}}]}}]})")
                .error;
  }
  EXPECT_EQ(error, "too many tool calls in stream");
}

TEST(ProvidersCompletion, UsageFromAnyChunkLatestWins) {
  CompletionStream stream;
  stream.OnData(
      R"({"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}})");
  stream.OnData(
      R"({"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":9.0,"total_tokens":16}})");
  ASSERT_TRUE(stream.usage().has_value());
  EXPECT_EQ(stream.usage()->prompt_tokens, 7);
  EXPECT_EQ(stream.usage()->completion_tokens, 9);
}

TEST(ProvidersCompletion, WhitespaceOnlyPayloadIsIgnored) {
  CompletionStream stream;
  auto update = stream.OnData(" \r\n");
  EXPECT_FALSE(update.error.has_value());
  EXPECT_FALSE(update.done);
}

}  // namespace
}  // namespace polaris::providers

namespace polaris::providers {
namespace {

TEST(ProvidersCompletionBounds, AnAnswerOverEightMiBFailsTheStep) {
  CompletionStream stream;
  const std::string piece(64 << 10, 'x');
  const std::string payload = R"({"choices":[{"delta":{"content":")" + piece + R"("}}]})";
  bool failed = false;
  for (int i = 0; i < 200 && !failed; ++i) {
    auto u = stream.OnData(payload);
    failed = u.error.has_value();
    if (failed) {
      EXPECT_NE(u.error->find("larger than"), std::string::npos) << *u.error;
    }
  }
  EXPECT_TRUE(failed) << "a provider streaming without end is cut at the bound";
  EXPECT_LE(stream.text().size(), std::size_t{8 << 20});
}

TEST(ProvidersCompletionBounds, ToolArgumentsCountTowardsTheBound) {
  CompletionStream stream;
  ASSERT_FALSE(
      stream
          .OnData(
              R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"write_file","arguments":""}}]}}]})")
          .error);
  const std::string piece(64 << 10, 'a');
  const std::string payload =
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":")" + piece +
      R"("}}]}}]})";
  bool failed = false;
  for (int i = 0; i < 200 && !failed; ++i) failed = stream.OnData(payload).error.has_value();
  EXPECT_TRUE(failed);
}

}  // namespace
}  // namespace polaris::providers
