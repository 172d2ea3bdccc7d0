#include "store/sqlite/database.h"

#include <mutex>
#include <string>

#include "domain/limits.h"

namespace polaris::sqlite {
namespace {
[[noreturn]] void Fail(sqlite3* db, int rc) {
  throw SqliteError(rc, std::string("sqlite: ") + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}
}  // namespace

Statement& Statement::Bind(int i, std::string_view v) {
  int rc = sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) Fail(sqlite3_db_handle(stmt_), rc);
  return *this;
}
Statement& Statement::Bind(int i, std::int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK) Fail(sqlite3_db_handle(stmt_), rc);
  return *this;
}
Statement& Statement::Bind(int i, const std::optional<std::string>& v) {
  return v ? Bind(i, std::string_view(*v)) : BindNull(i);
}
Statement& Statement::BindNull(int i) {
  int rc = sqlite3_bind_null(stmt_, i);
  if (rc != SQLITE_OK) Fail(sqlite3_db_handle(stmt_), rc);
  return *this;
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Fail(sqlite3_db_handle(stmt_), rc);
}

std::string Statement::Text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}
std::optional<std::string> Statement::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Database::Database(const std::string& path, bool read_only) {
  // Memory statistics take a process-wide mutex on every SQLite allocation, which all our
  // threads would share; nothing reads them. Must be set before SQLite initializes.
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread only
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError(rc, "sqlite: cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  Exec("PRAGMA foreign_keys=ON");
  // FULL: an acknowledged commit survives power loss, not just a process crash.
  Exec("PRAGMA synchronous=FULL");
  if (!read_only) Exec("PRAGMA journal_mode=WAL");
  // When the WAL restarts from its beginning it is cut back to this size (it never shrinks
  // otherwise: one burst of writes would keep its disk for good).
  Exec(("PRAGMA journal_size_limit=" + std::to_string(CurrentLimits().wal_limit_bytes)).c_str());
  // A larger page cache per connection (32 MiB) keeps hot pages out of pread/pwrite calls.
  Exec("PRAGMA cache_size=-32768");
}

void Database::SetBusyTimeout(int ms) {
  sqlite3_busy_timeout(db_, ms);
}

Database::~Database() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

void Database::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteError(rc, "sqlite: " + msg);
  }
}

Statement Database::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) Fail(db_, rc);
    it = cache_.emplace(sql, stmt).first;
  }
  return Statement(it->second);
}

}  // namespace polaris::sqlite
