#include "store/migrate/migrate_db_command.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>

#include "store/migrate/copy_database.h"
#include "store/migrate/db_url.h"
#include "store/migrate/endpoint.h"

namespace polaris::migrate {
namespace {

std::unique_ptr<Endpoint> Open(const std::string& db, bool source) {
  switch (ClassifyDb(db)) {
    case DbKind::kSqlite:
      return OpenSqliteEndpoint(db.substr(kSqlitePrefix.size()), /*must_exist=*/source);
    case DbKind::kPostgres:
      return OpenPostgresEndpoint(db);
    case DbKind::kUnknown:
      break;
  }
  throw MigrateError("unsupported database '" + db + "'");  // options.cpp refuses it first
}

}  // namespace

int RunMigrateDb(const cli::MigrateDbOptions& options) {
  try {
    // Both are migrated to the current schema first: the source may be an older version.
    auto source = Open(options.from, /*source=*/true);
    auto target = Open(options.to, /*source=*/false);
    const auto tables = CopyDatabase(*source, *target);
    std::size_t width = 0;
    long long rows = 0;
    for (const auto& t : tables) {
      width = std::max(width, t.name.size());
      rows += t.summary.rows;
    }
    for (const auto& t : tables) {
      std::printf("%-*s  rows=%lld  sha256=%s  ok\n", static_cast<int>(width), t.name.c_str(),
                  static_cast<long long>(t.summary.rows), t.summary.sha256.c_str());
    }
    std::fflush(stdout);
    std::fprintf(stderr, "polaris migrate-db: copied and verified %zu tables, %lld rows\n",
                 tables.size(), rows);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "polaris migrate-db: %s\n", e.what());
    return 1;
  }
}

}  // namespace polaris::migrate
