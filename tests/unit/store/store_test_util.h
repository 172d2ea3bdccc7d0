#pragma once
// Helpers for the store unit tests: a temp directory and raw SQL counts that bypass the
// Database statement cache (which is keyed by the SQL pointer).
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include "domain/ids.h"
#include "store/postgres/pg_connection.h"

namespace polaris::store_test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "polaris_store_XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The single integer a query answers, through a fresh (uncached) statement.
inline std::int64_t QueryInt(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("prepare: ") + sqlite3_errmsg(db));
  }
  std::int64_t v = -1;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) throw std::runtime_error("query returned no row: " + sql);
  return v;
}

inline std::int64_t CountRows(sqlite3* db, const std::string& table) {
  return QueryInt(db, "SELECT count(*) FROM " + table);
}

// ---- PostgreSQL (only with POLARIS_TEST_PG_URI) ----

// The cluster the PostgreSQL tests use, from POLARIS_TEST_PG_URI (a postgres:// URI whose user
// may CREATE DATABASE); empty when unset, and those tests skip.
inline std::string PgTestUri() {
  const char* uri = ::getenv("POLARIS_TEST_PG_URI");
  return uri ? uri : "";
}
inline constexpr const char* kPgSkipMessage =
    "set POLARIS_TEST_PG_URI to a postgres:// URI (a user who may CREATE DATABASE) to run the "
    "PostgreSQL tests";

// The same connection string naming database `db`: a URI gets its path replaced (its query
// kept); a "key=value" string gets a dbname appended, which wins over an earlier one.
inline std::string WithDatabase(const std::string& conninfo, const std::string& db) {
  const auto scheme = conninfo.find("://");
  if (scheme == std::string::npos) return conninfo + " dbname=" + db;
  const auto query = conninfo.find('?', scheme + 3);
  const std::string head = conninfo.substr(0, query);
  const std::string tail = query == std::string::npos ? "" : conninfo.substr(query);
  const auto slash = head.find('/', scheme + 3);
  return head.substr(0, slash) + "/" + db + tail;
}

// A fresh, empty database on the test cluster (not migrated), dropped on destruction with
// whatever connections are still open on it.
class PgTestDatabase {
 public:
  explicit PgTestDatabase(const std::string& cluster_uri) : admin_uri_(cluster_uri) {
    unsigned char bits[8];
    SecureRandom(bits, sizeof bits);
    name_ = "polaris_ut_";
    for (unsigned char b : bits) {
      char hex[3];
      std::snprintf(hex, sizeof hex, "%02x", b);
      name_ += hex;
    }
    // template0 with the C locale: UTF8 whatever the cluster's defaults (Migrate needs UTF8).
    pg::Connection admin(admin_uri_);
    admin.Exec(("CREATE DATABASE " + name_ +
                " ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
                   .c_str());
    uri_ = WithDatabase(admin_uri_, name_);
  }
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;
  ~PgTestDatabase() {
    try {
      pg::Connection admin(admin_uri_);
      // DROP DATABASE ... WITH (FORCE) needs PostgreSQL 13; this works on any version.
      admin.Exec(("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                  name_ + "' AND pid <> pg_backend_pid()")
                     .c_str());
      admin.Exec(("DROP DATABASE IF EXISTS " + name_).c_str());
    } catch (const std::exception&) {
      // A throwaway test cluster: a leftover database harms nothing.
    }
  }
  const std::string& uri() const { return uri_; }
  const std::string& name() const { return name_; }

 private:
  std::string admin_uri_;
  std::string name_;
  std::string uri_;
};

// The one integer a query answers, on a PostgreSQL connection (simple protocol, no cache).
inline std::int64_t PgQueryInt(pg::Connection& db, const std::string& sql) {
  auto rows = db.Exec(sql.c_str());
  if (rows.empty()) throw std::runtime_error("query returned no row: " + sql);
  return rows.front().Int(0);
}

// Polls `done` until it holds or `limit` passes (no fixed sleeps: the step is only the poll
// interval); returns its last answer.
inline bool WaitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace polaris::store_test
