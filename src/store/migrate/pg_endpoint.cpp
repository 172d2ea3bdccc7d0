// The PostgreSQL side of a copy: reads through a cursor (a bounded number of rows in
// memory), writes with COPY FROM STDIN (one round trip per megabyte, not per row).
#include <cstring>
#include <map>
#include <set>

#include "store/migrate/endpoint.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_text.h"

namespace polaris::migrate {
namespace {

using pg::Connection;
using pg::PgError;

// Rows per FETCH: file contents may be a megabyte each.
constexpr int kFetchRows = 64;
constexpr std::size_t kCopyBufferBytes = 1 << 20;

struct ColumnType {
  bool text = false;     // sorted with COLLATE "C", bytewise as SQLite does
  bool boolean = false;  // read as 0/1, as SQLite stores it
};

struct TableMeta {
  std::map<std::string, ColumnType> types;
  std::string identity;  // the insertion-order column (seq), if any
};

std::string ErrorText(PGconn* conn) {
  std::string s = PQerrorMessage(conn);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Drains every result of the last command; returns the first error message, or "".
std::string DrainResults(PGconn* conn) {
  std::string error;
  while (PGresult* res = PQgetResult(conn)) {
    const auto status = PQresultStatus(res);
    if (error.empty() && status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(res);
      while (!error.empty() && error.back() == '\n') error.pop_back();
    }
    PQclear(res);
  }
  return error;
}

class CopySink final : public RowSink {
 public:
  CopySink(Connection& db, const std::string& table, std::vector<std::string> columns,
           std::vector<std::string> key)
      : conn_(db.handle()), table_(table), columns_(std::move(columns)), key_(std::move(key)) {
    const std::string sql =
        "COPY " + QuoteIdent(table) + " (" + IdentList(columns_) + ") FROM STDIN";
    PGresult* res = PQexec(conn_, sql.c_str());
    const bool ok = res && PQresultStatus(res) == PGRES_COPY_IN;
    std::string msg = res ? PQresultErrorMessage(res) : ErrorText(conn_);
    PQclear(res);
    if (!ok) throw PgError("", "postgres: copy into " + table + ": " + msg, false);
    active_ = true;
  }
  CopySink(const CopySink&) = delete;
  CopySink& operator=(const CopySink&) = delete;
  ~CopySink() override {
    if (!active_) return;
    // Abandoned by an error: end the COPY so that the connection can roll back.
    PQputCopyEnd(conn_, "polaris migrate-db: copy abandoned");
    DrainResults(conn_);
  }

  void Add(const Row& row) override {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i) buffer_ += '\t';
      if (!row[i]) {
        buffer_ += "\\N";
        continue;
      }
      // U+0000 goes in escaped, as the store writes it (store/postgres/pg_text.h).
      if (pg::NeedsEscape(*row[i])) {
        Escape(pg::EscapeText(*row[i]));
      } else {
        Escape(*row[i]);
      }
    }
    buffer_ += '\n';
    if (buffer_.size() >= kCopyBufferBytes) Flush();
  }

  void Finish() override {
    Flush();
    active_ = false;
    if (PQputCopyEnd(conn_, nullptr) != 1) {
      throw PgError("", "postgres: copy into " + table_ + ": " + ErrorText(conn_), true);
    }
    std::string error = DrainResults(conn_);
    if (!error.empty()) throw PgError("", "postgres: copy into " + table_ + ": " + error, false);
  }

 private:
  // COPY's text format: backslash escapes for the delimiter, line ends and backslash.
  void Escape(const std::string& v) {
    for (char c : v) {
      switch (c) {
        case '\\':
          buffer_ += "\\\\";
          break;
        case '\t':
          buffer_ += "\\t";
          break;
        case '\n':
          buffer_ += "\\n";
          break;
        case '\r':
          buffer_ += "\\r";
          break;
        default:
          buffer_ += c;
      }
    }
  }
  void Flush() {
    if (buffer_.empty()) return;
    if (PQputCopyData(conn_, buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
      throw PgError("", "postgres: copy into " + table_ + ": " + ErrorText(conn_), true);
    }
    buffer_.clear();
  }

  PGconn* conn_;
  std::string table_;
  std::vector<std::string> columns_;
  std::vector<std::string> key_;
  std::string buffer_;
  bool active_ = false;
};

class PgEndpoint final : public Endpoint {
 public:
  explicit PgEndpoint(const std::string& conninfo) : db_(conninfo) { pg::Migrate(db_); }

  void BeginRead() override { db_.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); }
  void BeginWrite() override { db_.Exec("BEGIN"); }

  std::vector<TableInfo> Tables() override {
    std::map<std::string, TableInfo> tables;
    auto names = db_.Exec(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'");
    for (int i = 0; i < names.rows(); ++i) {
      std::string name = names.row(i).Text(0);
      if (!IsBookkeeping(name)) tables[name].name = name;
    }
    auto cols = db_.Exec(
        "SELECT table_name, column_name, data_type, is_identity, is_generated "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "ORDER BY table_name, ordinal_position");
    for (int i = 0; i < cols.rows(); ++i) {
      const auto r = cols.row(i);
      auto it = tables.find(r.Text(0));
      if (it == tables.end()) continue;
      const std::string column = r.Text(1), type = r.Text(2);
      TableMeta& meta = meta_[it->first];
      if (r.Text(3) == "YES") {  // seq: the insertion order, assigned by the target itself
        if (meta.identity.empty()) meta.identity = column;
        continue;
      }
      if (r.Text(4) == "ALWAYS") continue;  // generated: not writable
      it->second.columns.push_back(column);
      meta.types[column] = {type == "text" || type == "character varying" || type == "character",
                            type == "boolean"};
    }
    auto keys = db_.Exec(
        "SELECT k.table_name, k.column_name FROM information_schema.table_constraints c "
        "JOIN information_schema.key_column_usage k ON k.constraint_schema = c.constraint_schema "
        "AND k.constraint_name = c.constraint_name AND k.table_name = c.table_name "
        "WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema() "
        "ORDER BY k.table_name, k.ordinal_position");
    for (int i = 0; i < keys.rows(); ++i) {
      auto it = tables.find(keys.row(i).Text(0));
      if (it != tables.end()) it->second.primary_key.push_back(keys.row(i).Text(1));
    }
    auto refs = db_.Exec(
        "SELECT DISTINCT t.relname, r.relname FROM pg_constraint c "
        "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid "
        "WHERE c.contype = 'f' AND r.oid <> t.oid AND t.relnamespace = "
        "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())");
    for (int i = 0; i < refs.rows(); ++i) {
      auto it = tables.find(refs.row(i).Text(0));
      if (it != tables.end()) it->second.references.push_back(refs.row(i).Text(1));
    }
    std::vector<TableInfo> out;
    for (auto& [name, t] : tables) out.push_back(std::move(t));
    return out;
  }

  void Lock(const std::vector<std::string>& tables) override {
    if (tables.empty()) return;
    // Readers may go on; writers wait until the copy commits or rolls back.
    db_.Exec(("LOCK TABLE " + IdentList(tables) + " IN EXCLUSIVE MODE").c_str());
  }

  std::int64_t Count(const std::string& table) override {
    return db_.Exec(("SELECT count(*) FROM " + QuoteIdent(table)).c_str()).front().Int(0);
  }

  void SuspendTriggers(const std::vector<std::string>& tables) override {
    // Only the tables with triggers of their own (DISABLE TRIGGER USER keeps the foreign
    // key checks): ALTER TABLE needs the table's owner, who ran the migrations.
    auto with_triggers = db_.Exec(
        "SELECT DISTINCT t.relname FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid "
        "WHERE NOT g.tgisinternal AND t.relnamespace = "
        "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())");
    std::set<std::string> wanted(tables.begin(), tables.end());
    for (int i = 0; i < with_triggers.rows(); ++i) {
      std::string name = with_triggers.row(i).Text(0);
      if (!wanted.contains(name)) continue;
      db_.Exec(("ALTER TABLE " + QuoteIdent(name) + " DISABLE TRIGGER USER").c_str());
      suspended_.push_back(name);
    }
  }
  void ResumeTriggers() override {
    for (const auto& name : suspended_) {
      db_.Exec(("ALTER TABLE " + QuoteIdent(name) + " ENABLE TRIGGER USER").c_str());
    }
    suspended_.clear();
  }

  void CheckConstraints() override {}  // COPY checked the foreign keys of every table

  void Scan(const std::string& table, const std::vector<std::string>& columns, Order order,
            const std::vector<std::string>& key,
            const std::function<void(const Row&)>& fn) override {
    const TableMeta& meta = meta_[table];
    std::string select;
    for (const auto& c : columns) {
      if (!select.empty()) select += ", ";
      select += QuoteIdent(c);
      if (Type(meta, c).boolean) select += "::int";
    }
    std::string order_by;
    if (order == Order::kInsertion && !meta.identity.empty()) {
      order_by = QuoteIdent(meta.identity);
    } else {
      for (const auto& k : key) {
        if (!order_by.empty()) order_by += ", ";
        order_by += QuoteIdent(k);
        if (Type(meta, k).text) order_by += " COLLATE \"C\"";
      }
    }
    db_.Exec(("DECLARE polaris_migrate NO SCROLL CURSOR FOR SELECT " + select + " FROM " +
              QuoteIdent(table) + " ORDER BY " + order_by)
                 .c_str());
    const std::string fetch =
        "FETCH FORWARD " + std::to_string(kFetchRows) + " FROM polaris_migrate";
    Row row(columns.size());
    for (;;) {
      auto batch = db_.Exec(fetch.c_str());
      if (batch.empty()) break;
      for (int i = 0; i < batch.rows(); ++i) {
        const auto r = batch.row(i);
        for (std::size_t c = 0; c < columns.size(); ++c) row[c] = r.OptText(static_cast<int>(c));
        fn(row);
      }
    }
    db_.Exec("CLOSE polaris_migrate");
  }

  std::unique_ptr<RowSink> Insert(const std::string& table, const std::vector<std::string>& columns,
                                  const std::vector<std::string>& key) override {
    return std::make_unique<CopySink>(db_, table, columns, key);
  }

  void Commit() override {
    auto res = db_.Exec("COMMIT");
    if (res.command() != "COMMIT") throw PgError("", "postgres: the commit was rolled back", false);
  }

  void Rollback() noexcept override {
    suspended_.clear();  // ALTER TABLE is undone with the transaction
    if (db_.transaction_status() == PQTRANS_IDLE) return;
    try {
      db_.Exec("ROLLBACK");
    } catch (...) {
    }
  }

 private:
  static ColumnType Type(const TableMeta& meta, const std::string& column) {
    auto it = meta.types.find(column);
    return it == meta.types.end() ? ColumnType{} : it->second;
  }

  Connection db_;
  std::map<std::string, TableMeta> meta_;
  std::vector<std::string> suspended_;
};

}  // namespace

std::unique_ptr<Endpoint> OpenPostgresEndpoint(const std::string& conninfo) {
  return std::make_unique<PgEndpoint>(conninfo);
}

}  // namespace polaris::migrate
