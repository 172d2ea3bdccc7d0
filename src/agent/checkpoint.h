#pragma once
// What a run has durably finished, saved on the run after every completed step and every
// tool result, so a restarted run resumes where it stopped instead of starting over.
#include <boost/json/array.hpp>
#include <cstdint>
#include <string>

namespace polaris::agent {

struct Checkpoint {
  int steps = 0;                   // model steps completed
  std::string content;             // message content after those steps
  std::int64_t prompt_tokens = 0;  // usage summed over those steps
  std::int64_t completion_tokens = 0;
  bool has_usage = false;
  std::string model;              // model of the last completed step
  boost::json::array transcript;  // assistant (with tool_calls) and tool messages so far

  std::string Serialize() const;
  // An empty or unreadable text gives a fresh checkpoint.
  static Checkpoint Parse(const std::string& text);
};

}  // namespace polaris::agent
