#pragma once
// Change topics: the store names what each committed write touched, and a live query names
// what it read, in these terms. A query is re-run when a topic it read is committed.
#include <string>
#include <string_view>

namespace polaris::topics {

// The messages of one conversation.
inline std::string Messages(std::string_view conversation_id) {
  return "m:" + std::string(conversation_id);
}
// The conversations of one project (their list and each conversation document).
inline std::string Conversations(std::string_view project_id) {
  return "c:" + std::string(project_id);
}
// The files and folders of one project.
inline std::string Files(std::string_view project_id) {
  return "f:" + std::string(project_id);
}
// The projects of one owner (their list and each project document).
inline std::string Projects(std::string_view owner_id) {
  return "p:" + std::string(owner_id);
}

}  // namespace polaris::topics
