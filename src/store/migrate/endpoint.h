#pragma once
// One side of a database copy: the tables of a SQLite file or a PostgreSQL database as
// rows of text values, read in a stable order and written in bulk. The table and column
// lists are discovered at run time, so that schema changes need no change here.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace polaris::migrate {

// One column value: its text (integers in decimal, as both stores print them); nullopt is
// SQL NULL, distinct from the empty string.
using Value = std::optional<std::string>;
using Row = std::vector<Value>;

// What the user must fix (a refused target, a value one store cannot hold, a schema that
// does not match), as opposed to a store error.
struct MigrateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TableInfo {
  std::string name;
  std::vector<std::string> columns;      // writable ones, in table order (no generated/identity)
  std::vector<std::string> primary_key;  // in key order; empty when the table has none
  std::vector<std::string> references;   // other tables its foreign keys point to
};

// Receives a table's rows in order; Finish() before the transaction goes on.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void Add(const Row& row) = 0;
  virtual void Finish() = 0;
};

enum class Order {
  kInsertion,  // SQLite rowid, PostgreSQL identity (seq); the key where a table has neither
  kKey,        // the given key columns, compared bytewise
};

class Endpoint {
 public:
  virtual ~Endpoint() = default;

  // A consistent snapshot to read from (the source).
  virtual void BeginRead() = 0;
  // The one transaction everything is written in (the target).
  virtual void BeginWrite() = 0;
  // The data tables, by name; migration bookkeeping is left out.
  virtual std::vector<TableInfo> Tables() = 0;
  // Keeps other writers out of the tables until the transaction ends.
  virtual void Lock(const std::vector<std::string>& tables) = 0;
  virtual std::int64_t Count(const std::string& table) = 0;
  // Triggers (file usage counters on projects) would count copied rows a second time: the
  // copy writes every column exactly as the source has it.
  virtual void SuspendTriggers(const std::vector<std::string>& tables) = 0;
  virtual void ResumeTriggers() = 0;
  // Checks what the copy deferred (foreign keys) before the commit.
  virtual void CheckConstraints() = 0;
  // Calls fn with every row of `columns`, in the given order (key: for kKey, and for
  // kInsertion where the table has no insertion order).
  virtual void Scan(const std::string& table, const std::vector<std::string>& columns, Order order,
                    const std::vector<std::string>& key,
                    const std::function<void(const Row&)>& fn) = 0;
  // Inserts rows of `columns`; `key` names the row in errors.
  virtual std::unique_ptr<RowSink> Insert(const std::string& table,
                                          const std::vector<std::string>& columns,
                                          const std::vector<std::string>& key) = 0;
  virtual void Commit() = 0;
  // Ends any open transaction, discarding its writes; never throws.
  virtual void Rollback() noexcept = 0;
};

// Opens the file (creating it unless must_exist) and migrates it to the current schema.
std::unique_ptr<Endpoint> OpenSqliteEndpoint(const std::string& path, bool must_exist);
// Connects (a postgres:// URI or a libpq "key=value" string) and migrates the database.
std::unique_ptr<Endpoint> OpenPostgresEndpoint(const std::string& conninfo);

// "name" quoted as an SQL identifier (the same rule in SQLite and PostgreSQL).
std::string QuoteIdent(std::string_view name);
// Comma-separated quoted identifiers, each followed by suffix.
std::string IdentList(const std::vector<std::string>& names, std::string_view suffix = "");
// Names the row by its key values, for error messages: `id='fil_…'`.
std::string DescribeRow(const std::vector<std::string>& columns, const Row& row,
                        const std::vector<std::string>& key);
// Tables that only record the schema version: never copied.
bool IsBookkeeping(std::string_view table);

}  // namespace polaris::migrate
