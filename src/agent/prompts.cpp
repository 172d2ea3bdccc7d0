#include "agent/prompts.h"

#include <boost/json.hpp>

#include "domain/text.h"

namespace polaris::agent {
namespace {
boost::json::object Msg(const char* role, std::string content) {
  return {{"role", role}, {"content", std::move(content)}};
}
}  // namespace

std::string SystemPrompt(const std::string& project_summary) {
  return "You are Polaris, an AI coding assistant integrated into a cloud IDE. You help the user "
         "build and change the project that is open in the IDE.\n\n"
         "You can read and change the project's files with these tools:\n"
         "- list_files {path?}: list one folder (the root when path is omitted)\n"
         "- get_project_structure {}: every file path in the project\n"
         "- read_file {path}: read a file\n"
         "- write_file {path, content}: create or overwrite a file (parent folders are created)\n"
         "- create_folder {path}, rename_file {path, newName}, delete_file {path}\n"
         "- search_files {pattern, glob?, caseSensitive?}: regular-expression search\n\n"
         "Paths are relative to the project root and use '/'. Read a file before changing it. "
         "Write complete, working, well-structured code. When you are done, reply with a short "
         "summary of what you did. Keep answers concise.\n\n"
         "Project files:\n" +
         (project_summary.empty() ? std::string("(the project has no files yet)")
                                  : project_summary);
}

boost::json::array HistoryMessages(const std::vector<Message>& conversation,
                                   const std::string& answering_id, std::size_t max_bytes) {
  // The newest messages that fit in max_bytes (the newest one always), oldest first: a long
  // conversation must not make every prompt, and so every request and its cost, grow.
  std::vector<const Message*> kept;
  std::size_t bytes = 0;
  for (auto it = conversation.rbegin(); it != conversation.rend(); ++it) {
    if (it->id == answering_id || it->content.empty()) continue;
    if (!kept.empty() && bytes + it->content.size() > max_bytes) break;
    bytes += it->content.size();
    kept.push_back(&*it);
  }
  boost::json::array out;
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) {
    out.push_back(Msg((*it)->role == Role::kUser ? "user" : "assistant", (*it)->content));
  }
  return out;
}

boost::json::array TitleMessages(const std::string& first_user_message) {
  return {Msg("system",
              "Generate a short, descriptive title (3-6 words) for a conversation based on the "
              "user's message. Return ONLY the title, nothing else. No quotes, no punctuation at "
              "the end."),
          Msg("user", first_user_message.substr(0, 2000))};
}

std::string CleanTitle(std::string raw) {
  if (auto nl = raw.find('\n'); nl != std::string::npos) raw.resize(nl);
  auto strip = [](char c) {
    return c == ' ' || c == '"' || c == '\'' || c == '`' || c == '*' || c == '#';
  };
  while (!raw.empty() && strip(raw.front())) raw.erase(raw.begin());
  while (!raw.empty() && (strip(raw.back()) || raw.back() == '.' || raw.back() == '\r'))
    raw.pop_back();
  if (raw.size() > 60) {
    raw.resize(60);
    while (!raw.empty() && (static_cast<unsigned char>(raw.back()) & 0xC0) == 0x80) raw.pop_back();
    if (!raw.empty() && static_cast<unsigned char>(raw.back()) >= 0xC0) raw.pop_back();
  }
  // Model output is untrusted: a title never carries control or bidi characters.
  if (HasUnsafeCharacters(raw)) return {};
  return raw;
}

boost::json::array SuggestionMessages(const SuggestionInput& in) {
  std::string prompt =
      "You are a code completion assistant. Suggest the code to insert at the cursor.\n"
      "<context>\n<file_name>" +
      in.file_name + "</file_name>\n<previous_lines>\n" + in.previous_lines +
      "\n</previous_lines>\n<current_line number=\"" + std::to_string(in.line_number) + "\">" +
      in.current_line + "</current_line>\n<before_cursor>" + in.text_before_cursor +
      "</before_cursor>\n<after_cursor>" + in.text_after_cursor +
      "</after_cursor>\n<next_lines>\n" + in.next_lines + "\n</next_lines>\n<full_code>\n" +
      in.code +
      "\n</full_code>\n</context>\n"
      "Return ONLY the text to insert at the cursor, no explanations and no code fences. Return "
      "an empty answer if next_lines already continues the code, or if the text before the "
      "cursor ends with ';', '}' or ')'.";
  return {Msg("user", std::move(prompt))};
}

boost::json::array QuickEditMessages(const std::string& selected_code, const std::string& full_code,
                                     const std::string& instruction) {
  std::string prompt =
      "You are a code editing assistant. Edit the selected code following the "
      "instruction.\n<selected_code>\n" +
      selected_code + "\n</selected_code>\n<full_code>\n" + full_code +
      "\n</full_code>\n<instruction>\n" + instruction +
      "\n</instruction>\nReturn ONLY the edited version of the selected code, "
      "with the same indentation, no explanations and no code fences.";
  return {Msg("user", std::move(prompt))};
}

std::string StripCodeFence(const std::string& text) {
  std::string_view t = text;
  while (!t.empty() && (t.front() == '\n' || t.front() == ' ')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.remove_suffix(1);
  if (t.size() < 6 || !t.starts_with("```") || !t.ends_with("```")) return text;
  auto first_nl = t.find('\n');
  if (first_nl == std::string_view::npos) return text;
  std::string_view inner = t.substr(first_nl + 1, t.size() - 3 - first_nl - 1);
  if (!inner.empty() && inner.back() == '\n') inner.remove_suffix(1);
  return std::string(inner);
}

}  // namespace polaris::agent
