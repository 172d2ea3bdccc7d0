#pragma once
// Which store a database argument names: the rule `polaris serve --db` follows. Header-only
// and free of SQL headers, so that command-line parsing can check an argument early.
#include <string_view>

namespace polaris::migrate {

enum class DbKind { kSqlite, kPostgres, kUnknown };

inline constexpr std::string_view kSqlitePrefix = "sqlite:";

// sqlite:PATH, or a postgres:// URI, or a libpq "key=value ..." connection string.
inline DbKind ClassifyDb(std::string_view db) {
  if (db.starts_with(kSqlitePrefix)) {
    return db.size() > kSqlitePrefix.size() ? DbKind::kSqlite : DbKind::kUnknown;
  }
  if (db.starts_with("postgres://") || db.starts_with("postgresql://") ||
      db.find('=') != std::string_view::npos) {
    return DbKind::kPostgres;
  }
  return DbKind::kUnknown;
}

}  // namespace polaris::migrate
