#pragma once
// Thin RAII wrapper over sqlite3: a connection with a prepared-statement cache, and a
// statement handle with typed binds and column reads. Errors throw SqliteError.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/store.h"

namespace polaris::sqlite {

struct SqliteError : StoreError {
  SqliteError(int code, const std::string& what)
      : StoreError(what, Unavailable(code)), code(code) {}
  int code;
  // The result codes that say "not now" rather than "this request is wrong".
  static bool Unavailable(int code) {
    switch (code & 0xFF) {
      case SQLITE_FULL:
      case SQLITE_IOERR:
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
      case SQLITE_NOMEM:
      case SQLITE_CANTOPEN:
      case SQLITE_READONLY:
        return true;
      default:
        return false;
    }
  }
};

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { Reset(); }

  Statement& Bind(int i, std::string_view v);
  Statement& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, std::int64_t v);
  Statement& Bind(int i, const std::optional<std::string>& v);
  Statement& BindNull(int i);
  // Steps once; true while a row is available.
  bool Step();
  void Run() {
    while (Step()) {
    }
  }
  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  void Reset();
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // Opens (creating if needed) the file and applies the connection pragmas.
  Database(const std::string& path, bool read_only);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // How long a statement waits for a lock before failing with SQLITE_BUSY.
  void SetBusyTimeout(int ms);
  void Exec(const char* sql);
  // Runs one statement from the cache: for the per-job transaction control of the writer and
  // the readers, where parsing the SQL each time would cost more than running it.
  void Run(const char* sql) { Prepare(sql).Run(); }
  // A cached prepared statement; the returned handle resets it on destruction.
  Statement Prepare(const char* sql);
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace polaris::sqlite
