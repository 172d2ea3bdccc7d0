#include "store/migrate/endpoint.h"

#include <algorithm>

namespace polaris::migrate {

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string IdentList(const std::vector<std::string>& names, std::string_view suffix) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += QuoteIdent(n);
    out += suffix;
  }
  return out;
}

std::string DescribeRow(const std::vector<std::string>& columns, const Row& row,
                        const std::vector<std::string>& key) {
  constexpr std::size_t kMaxShown = 80;
  std::string out;
  for (const auto& k : key) {
    auto it = std::find(columns.begin(), columns.end(), k);
    if (it == columns.end()) continue;
    const Value& v = row[static_cast<std::size_t>(it - columns.begin())];
    if (!out.empty()) out += ", ";
    out += k + "=";
    if (!v) {
      out += "NULL";
      continue;
    }
    std::string shown = v->substr(0, kMaxShown);
    std::replace(shown.begin(), shown.end(), '\0', '?');
    out += "'" + shown + (v->size() > kMaxShown ? "...'" : "'");
  }
  return out.empty() ? "(no key)" : out;
}

bool IsBookkeeping(std::string_view table) {
  return table == "schema_migrations" || table.starts_with("sqlite_");
}

}  // namespace polaris::migrate
