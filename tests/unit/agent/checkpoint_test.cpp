// The checkpoint's typed transcript: it reads what earlier versions stored, renders the same
// chat messages, and a damaged checkpoint never throws (it ends the transcript early instead).
#include "agent/checkpoint.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace polaris::agent {
namespace {
namespace json = boost::json;

// A checkpoint as the wire-JSON transcript stored it before the transcript was typed.
constexpr const char* kStored = R"({"steps":1,"content":"Let me look.","promptTokens":12,
  "completionTokens":5,"hasUsage":true,"model":"m","transcript":[
  {"role":"assistant","tool_calls":[
    {"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a\"}"}},
    {"id":"call_2","type":"function","function":{"name":"list_files","arguments":"{}"}}],
   "content":"Let me look."},
  {"role":"tool","tool_call_id":"call_1","content":"{\"success\":true}"}]})";

TEST(CheckpointTest, ReadsAStoredCheckpointAndWritesTheSameMessages) {
  Checkpoint cp = Checkpoint::Parse(kStored);
  EXPECT_EQ(cp.steps, 1);
  EXPECT_EQ(cp.content, "Let me look.");
  ASSERT_EQ(cp.transcript.size(), 2u);
  auto last = cp.transcript.LastToolStep();
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, 0u);
  EXPECT_EQ(cp.transcript.StepAt(*last).calls.size(), 2u);
  EXPECT_TRUE(cp.transcript.Answered(*last, "call_1"));
  EXPECT_FALSE(cp.transcript.Answered(*last, "call_2")) << "its result is still to come";
  EXPECT_EQ(cp.transcript.CallIds(), (std::set<std::string>{"call_1", "call_2"}));
  const json::value stored = json::parse(kStored).as_object().at("transcript");
  EXPECT_EQ(json::value(cp.transcript.ToWire()), stored);
  // And back: what is written is read the same.
  Checkpoint again = Checkpoint::Parse(cp.Serialize());
  EXPECT_EQ(json::value(again.transcript.ToWire()), stored);
  EXPECT_EQ(again.prompt_tokens, 12);
  EXPECT_TRUE(again.has_usage);
}

TEST(CheckpointTest, AStepWithoutTextSendsNullContent) {
  Transcript t;
  t.Add(AssistantStep{"", {TranscriptCall{"c", "list_files", "{}"}}});
  auto wire = t.ToWire();
  ASSERT_EQ(wire.size(), 1u);
  EXPECT_TRUE(wire[0].as_object().at("content").is_null());
}

TEST(CheckpointTest, ADamagedTranscriptEndsWhereItBreaksAndNeverThrows) {
  const char* cases[] = {
      R"({"transcript":[7]})",
      R"({"transcript":[{"role":"assistant","content":"no calls"}]})",
      R"({"transcript":[{"role":"assistant","tool_calls":[{"id":"x"}]}]})",
      R"({"transcript":[{"role":"assistant","tool_calls":[{"id":1,"function":{}}]}]})",
      R"({"transcript":[{"role":"tool","tool_call_id":"never_announced","content":"{}"}]})",
      R"({"transcript":[{"role":"tool","tool_call_id":3,"content":"{}"}]})",
      R"({"transcript":[{"role":"system","content":"?"}]})",
      R"({"transcript":{"not":"an array"}})",
      R"({"steps":"many","content":5})",
      "not json",
  };
  for (const char* text : cases) {
    Checkpoint cp;
    ASSERT_NO_THROW(cp = Checkpoint::Parse(text)) << text;
    EXPECT_EQ(cp.transcript.size(), 0u) << text;
    EXPECT_FALSE(cp.transcript.LastToolStep()) << text;
  }
  // A good step followed by a result that answers nothing: the step stays, the rest goes.
  Checkpoint cp = Checkpoint::Parse(R"({"transcript":[
    {"role":"assistant","tool_calls":[{"id":"a","type":"function",
      "function":{"name":"read_file","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"b","content":"{}"},
    {"role":"tool","tool_call_id":"a","content":"{}"}]})");
  ASSERT_EQ(cp.transcript.size(), 1u);
  EXPECT_FALSE(cp.transcript.Answered(0, "a"));
}

}  // namespace
}  // namespace polaris::agent
