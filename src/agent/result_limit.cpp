#include "agent/result_limit.h"

#include <boost/json/serialize.hpp>
#include <string>

#include "domain/text.h"

namespace polaris::agent {
namespace json = boost::json;

namespace {
constexpr std::size_t kNoteRoom = 400;  // the note and flags added to a cut result

std::size_t SizeOf(const json::object& o) {
  return json::serialize(o).size();
}

// Drops items from the end of the list until the result fits.
bool CutList(json::object& result, std::string_view key, std::size_t max_bytes) {
  auto* list = result.if_contains(key);
  if (!list || !list->is_array()) return false;
  auto& items = list->as_array();
  const std::size_t total = items.size();
  const std::size_t budget = max_bytes > kNoteRoom ? max_bytes - kNoteRoom : 0;
  // The most items that fit, by binary search over the count (serializing once per probe).
  const json::array all = std::move(items);
  auto fits = [&](std::size_t n) {
    items = json::array(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
    return SizeOf(result) <= budget;
  };
  std::size_t lo = 0, hi = total;  // fits(lo) holds (an empty list always fits the budget)
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  items = json::array(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(lo));
  // `items` refers into result: adding keys below may move it, so it is not used after.
  result["truncated"] = true;
  result["note"] = "Showing " + std::to_string(lo) + " of " + std::to_string(total) + " " +
                   std::string(key) +
                   "; the rest was left out to keep the conversation small. Narrow the request "
                   "(a folder path, a glob or a more specific pattern) to see others.";
  return true;
}
}  // namespace

json::object LimitToolResult(json::object result, std::size_t max_bytes) {
  const std::size_t size = SizeOf(result);
  if (size <= max_bytes) return result;

  if (auto* content = result.if_contains("content"); content && content->is_string()) {
    std::string_view text = content->as_string();
    const std::size_t total = text.size();
    const std::size_t other = size - total;  // everything but the content (escaping aside)
    const std::size_t room = max_bytes > other + kNoteRoom ? max_bytes - other - kNoteRoom : 0;
    std::string kept(Utf8Prefix(text, room));
    // JSON escaping can make the content longer than its bytes: shrink until it fits.
    while (!kept.empty()) {
      result["content"] = kept;
      if (SizeOf(result) + kNoteRoom <= max_bytes) break;
      kept = std::string(Utf8Prefix(kept, kept.size() * 3 / 4));
    }
    result["content"] = kept;
    result["truncated"] = true;
    result["note"] = "Showing the first " + std::to_string(kept.size()) + " of " +
                     std::to_string(total) +
                     " bytes of this file; the rest was cut to keep the conversation small. Use "
                     "search_files to find the lines you need.";
    return result;
  }
  for (std::string_view key : {"paths", "entries", "matches"}) {
    if (CutList(result, key, max_bytes) && SizeOf(result) <= max_bytes) return result;
  }
  json::object small;
  if (auto* ok = result.if_contains("success")) small["success"] = *ok;
  small["truncated"] = true;
  small["note"] = "The result was " + std::to_string(size) + " bytes, over the " +
                  std::to_string(max_bytes) + "-byte limit for a tool result, and was left out.";
  return small;
}

}  // namespace polaris::agent
