// The SQLite side of a copy. Its statements are built at run time, so they are prepared
// here rather than through Database::Prepare (whose cache is keyed by the SQL's address).
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <set>

#include "store/migrate/endpoint.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"

namespace polaris::migrate {
namespace {

using sqlite::Database;
using sqlite::SqliteError;

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    int rc = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &st_, nullptr);
    if (rc != SQLITE_OK) Fail(rc);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(st_); }

  bool Step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Fail(rc);
  }
  void Bind(int i, const Value& v) {
    int rc = v ? sqlite3_bind_text(st_, i, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT)
               : sqlite3_bind_null(st_, i);
    if (rc != SQLITE_OK) Fail(rc);
  }
  void Reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  int Type(int col) const { return sqlite3_column_type(st_, col); }
  std::int64_t Int(int col) const { return sqlite3_column_int64(st_, col); }
  std::string Text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col)))
             : std::string();
  }

 private:
  [[noreturn]] void Fail(int rc) {
    throw SqliteError(rc, std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

class SqliteSink final : public RowSink {
 public:
  SqliteSink(sqlite3* db, const std::string& table, std::vector<std::string> columns,
             std::vector<std::string> key)
      : stmt_(db, InsertSql(table, columns)), columns_(std::move(columns)), key_(std::move(key)) {}

  void Add(const Row& row) override {
    for (std::size_t i = 0; i < row.size(); ++i) stmt_.Bind(static_cast<int>(i + 1), row[i]);
    try {
      stmt_.Step();
    } catch (const SqliteError& e) {
      stmt_.Reset();
      throw SqliteError(e.code,
                        std::string(e.what()) + " (row " + DescribeRow(columns_, row, key_) + ")");
    }
    stmt_.Reset();
  }
  void Finish() override {}

 private:
  static std::string InsertSql(const std::string& table, const std::vector<std::string>& cols) {
    std::string marks;
    for (std::size_t i = 0; i < cols.size(); ++i) marks += i ? ", ?" : "?";
    return "INSERT INTO " + QuoteIdent(table) + " (" + IdentList(cols) + ") VALUES (" + marks + ")";
  }
  Stmt stmt_;
  std::vector<std::string> columns_;
  std::vector<std::string> key_;
};

class SqliteEndpoint final : public Endpoint {
 public:
  explicit SqliteEndpoint(const std::string& path) : db_(path, /*read_only=*/false) {
    sqlite::Migrate(db_);
  }

  void BeginRead() override {
    db_.Exec("BEGIN");
    // The snapshot starts with the first read: take it now, before anything is counted.
    Stmt(h(), "SELECT count(*) FROM sqlite_schema").Step();
  }
  void BeginWrite() override {
    db_.Exec("BEGIN IMMEDIATE");  // the write lock at once: no other writer in between
    // Foreign keys are checked at the end (CheckConstraints), not row by row.
    db_.Exec("PRAGMA defer_foreign_keys=ON");
  }

  std::vector<TableInfo> Tables() override {
    std::vector<TableInfo> out;
    Stmt list(h(),
              "SELECT name, wr FROM pragma_table_list "
              "WHERE schema = 'main' AND type = 'table' ORDER BY name");
    while (list.Step()) {
      TableInfo t;
      t.name = list.Text(0);
      if (IsBookkeeping(t.name)) continue;
      if (list.Int(1) == 0) with_rowid_.insert(t.name);
      ReadColumns(t);
      out.push_back(std::move(t));
    }
    return out;
  }

  void Lock(const std::vector<std::string>&) override {}  // BEGIN IMMEDIATE locked the file

  std::int64_t Count(const std::string& table) override {
    Stmt st(h(), "SELECT count(*) FROM " + QuoteIdent(table));
    st.Step();
    return st.Int(0);
  }

  void SuspendTriggers(const std::vector<std::string>&) override { EnableTriggers(false); }
  void ResumeTriggers() override { EnableTriggers(true); }

  void CheckConstraints() override {
    Stmt st(h(), "SELECT \"table\", rowid, parent FROM pragma_foreign_key_check");
    if (st.Step()) {
      throw MigrateError("foreign key violation in the copy: table " + st.Text(0) + " rowid " +
                         st.Text(1) + " refers to a missing row of " + st.Text(2));
    }
  }

  void Scan(const std::string& table, const std::vector<std::string>& columns, Order order,
            const std::vector<std::string>& key,
            const std::function<void(const Row&)>& fn) override {
    const bool by_rowid = order == Order::kInsertion && with_rowid_.contains(table);
    std::string sql = "SELECT " + IdentList(columns) + " FROM " + QuoteIdent(table) + " ORDER BY " +
                      (by_rowid ? "rowid" : IdentList(key, " COLLATE BINARY"));
    Stmt st(h(), sql);
    Row row(columns.size());
    while (st.Step()) {
      int blob = -1;
      for (std::size_t i = 0; i < columns.size(); ++i) {
        const int col = static_cast<int>(i);
        if (st.Type(col) == SQLITE_BLOB) blob = col;
        if (st.Type(col) == SQLITE_NULL) {
          row[i].reset();
        } else {
          row[i] = st.Text(col);
        }
      }
      if (blob >= 0) {
        // Polaris stores text and integers only; a blob would come back as text.
        throw MigrateError("table " + table + ", row " + DescribeRow(columns, row, key) +
                           ": column " + columns[static_cast<std::size_t>(blob)] +
                           " holds a BLOB, which is not copied");
      }
      fn(row);
    }
  }

  std::unique_ptr<RowSink> Insert(const std::string& table, const std::vector<std::string>& columns,
                                  const std::vector<std::string>& key) override {
    return std::make_unique<SqliteSink>(h(), table, columns, key);
  }

  void Commit() override { db_.Exec("COMMIT"); }

  void Rollback() noexcept override {
    EnableTriggersNoThrow();
    if (sqlite3_get_autocommit(h())) return;
    try {
      db_.Exec("ROLLBACK");
    } catch (...) {
    }
  }

 private:
  sqlite3* h() { return db_.handle(); }

  void ReadColumns(TableInfo& t) {
    Stmt cols(h(), "SELECT name, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid");
    cols.Bind(1, t.name);
    std::map<std::int64_t, std::string> pk;
    while (cols.Step()) {
      if (cols.Int(2) != 0) continue;  // generated (files.size) or hidden: not writable
      t.columns.push_back(cols.Text(0));
      if (cols.Int(1) > 0) pk[cols.Int(1)] = cols.Text(0);
    }
    for (auto& [pos, name] : pk) t.primary_key.push_back(name);
    Stmt refs(h(), "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)");
    refs.Bind(1, t.name);
    while (refs.Step()) {
      if (refs.Text(0) != t.name) t.references.push_back(refs.Text(0));
    }
  }

  void EnableTriggers(bool on) {
    int rc = sqlite3_db_config(h(), SQLITE_DBCONFIG_ENABLE_TRIGGER, on ? 1 : 0, nullptr);
    if (rc != SQLITE_OK) throw SqliteError(rc, "sqlite: cannot switch triggers");
  }
  void EnableTriggersNoThrow() noexcept {
    sqlite3_db_config(h(), SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, nullptr);
  }

  Database db_;
  std::set<std::string> with_rowid_;
};

}  // namespace

std::unique_ptr<Endpoint> OpenSqliteEndpoint(const std::string& path, bool must_exist) {
  std::error_code ec;
  if (must_exist && !std::filesystem::is_regular_file(path, ec)) {
    throw MigrateError("source database " + path + " does not exist");
  }
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  return std::make_unique<SqliteEndpoint>(path);
}

}  // namespace polaris::migrate
