#include "store/postgres/pg_text.h"

#include <cstring>

namespace polaris::pg {
namespace {
constexpr std::string_view kEsc = "\xF4\x8F\xBF\xBE";  // U+10FFFE
}  // namespace

bool NeedsEscape(std::string_view s) {
  return std::memchr(s.data(), '\0', s.size()) != nullptr || s.find(kEsc) != std::string_view::npos;
}

std::string EscapeText(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '\0') {
      out += kEsc;
      out += '0';
      ++i;
    } else if (s.compare(i, kEsc.size(), kEsc) == 0) {
      out += kEsc;
      out += 'E';
      i += kEsc.size();
    } else {
      out += s[i++];
    }
  }
  return out;
}

std::string UnescapeText(std::string_view s) {
  std::size_t at = s.find(kEsc);
  if (at == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  while (at != std::string_view::npos) {
    out.append(s.substr(0, at));
    s.remove_prefix(at + kEsc.size());
    if (!s.empty() && s.front() == '0') {
      out += '\0';
      s.remove_prefix(1);
    } else if (!s.empty() && s.front() == 'E') {
      out += kEsc;
      s.remove_prefix(1);
    } else {
      out += kEsc;  // not written by EscapeText (an older row): kept as it is
    }
    at = s.find(kEsc);
  }
  out.append(s);
  return out;
}

}  // namespace polaris::pg
