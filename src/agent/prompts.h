#pragma once
// Prompts: the agent's system prompt and the tool-less prompts (titles, suggestions, quick
// edits), as chat messages ready for a StepRequest.
#include <boost/json/array.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "domain/types.h"

namespace polaris::agent {

std::string SystemPrompt(const std::string& project_summary);

// The text a prompt carries of a conversation's history at most (the newest messages).
constexpr std::size_t kMaxHistoryBytes = 256 << 10;

// Earlier messages of the conversation as chat messages (user/assistant text), oldest first,
// leaving out the message being answered and empty ones; only the newest that fit in
// max_bytes (the newest one always).
boost::json::array HistoryMessages(const std::vector<Message>& conversation,
                                   const std::string& answering_id,
                                   std::size_t max_bytes = kMaxHistoryBytes);

boost::json::array TitleMessages(const std::string& first_user_message);
// Cleans a model's title answer: one line, no quotes or trailing punctuation, at most 60 chars.
std::string CleanTitle(std::string raw);

struct SuggestionInput {
  std::string file_name, code, current_line, previous_lines, text_before_cursor, text_after_cursor,
      next_lines;
  long long line_number = 0;
};
boost::json::array SuggestionMessages(const SuggestionInput& in);
boost::json::array QuickEditMessages(const std::string& selected_code, const std::string& full_code,
                                     const std::string& instruction);
// Strips a Markdown code fence the model may wrap its answer in.
std::string StripCodeFence(const std::string& text);

}  // namespace polaris::agent
