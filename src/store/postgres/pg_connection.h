#pragma once
// Thin RAII wrapper over libpq: a connection with a prepared-statement cache, text
// parameters, and a result with typed column reads. Errors throw PgError.
#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "store/store.h"

namespace polaris::pg {

struct PgError : StoreError {
  PgError(std::string sqlstate, const std::string& what, bool unavailable)
      : StoreError(what, unavailable), sqlstate(std::move(sqlstate)) {}
  std::string sqlstate;    // five characters; empty when libpq failed without a server error
  std::string constraint;  // the violated constraint, when the server names one
  // The SQLSTATEs that say "not now" rather than "this request is wrong": lost connections
  // (08), exhausted resources such as a full disk or too many connections (53), a server
  // shutting down or a cancelled statement (57), I/O errors (58), and conflicts with other
  // transactions that a retry resolves (40001, 40P01, 55P03).
  static bool Unavailable(std::string_view sqlstate);
};

// One query parameter in text format: a view of a string, an integer formatted in place, or
// SQL NULL. It views its argument, so build it only inside the call it is passed to (a braced
// list of parameters), never store it. Text holding U+0000 is escaped (pg_text.h) into a copy
// the parameter owns.
class Param {
 public:
  // Implicit on purpose: parameters are written as a braced list of plain values.
  Param(const std::string& s) { SetText(s); }            // NOLINT
  Param(const char* s) { SetText(s); }                   // NOLINT
  Param(std::int64_t v);                                 // NOLINT
  Param(int v) : Param(static_cast<std::int64_t>(v)) {}  // NOLINT
  Param(const std::optional<std::string>& s);            // NOLINT
  Param(const std::optional<std::int64_t>& v);           // NOLINT
  Param(std::nullopt_t) {}                               // NOLINT
  Param(const Param& other);
  Param& operator=(const Param&) = delete;

  // Null for SQL NULL.
  const char* value() const { return number_ ? digits_ : text_; }

 private:
  void SetNumber(std::int64_t v);
  void SetText(std::string_view s);

  const char* text_ = nullptr;
  std::string escaped_;  // the escaped copy, when the text needed one
  bool owns_ = false;    // text_ points into escaped_
  bool number_ = false;
  char digits_[24] = {};
};

// A row of a Result, read like the SQLite statement's columns.
class Row {
 public:
  Row(const PGresult* res, int row) : res_(res), row_(row) {}
  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::int64_t Int(int col) const;
  std::optional<std::int64_t> OptInt(int col) const;
  bool IsNull(int col) const { return PQgetisnull(res_, row_, col) != 0; }

 private:
  const PGresult* res_;
  int row_;
};

class Result {
 public:
  explicit Result(PGresult* res) : res_(res) {}
  Result(Result&& other) noexcept : res_(std::exchange(other.res_, nullptr)) {}
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  ~Result() { PQclear(res_); }

  int rows() const { return PQntuples(res_); }
  bool empty() const { return rows() == 0; }
  Row row(int i) const { return Row(res_, i); }
  // The first row; only when !empty().
  Row front() const { return row(0); }
  // The command tag, such as "COMMIT" (or "ROLLBACK" for a COMMIT of a failed transaction).
  std::string_view command() const { return PQcmdStatus(res_); }

 private:
  PGresult* res_;
};

class Connection {
 public:
  // Connects (conninfo is a "key=value" string or a postgres:// URI). Throws PgError,
  // unavailable when the server cannot be reached or takes no more connections.
  explicit Connection(std::string conninfo);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one or more statements without parameters (simple protocol); the result is the
  // last statement's. For migrations and transaction control.
  Result Exec(const char* sql);
  // Runs one statement with parameters, prepared once per connection (cached by SQL text).
  Result Query(std::string_view sql, std::initializer_list<Param> params = {});
  // True while the connection to the server is up.
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  // Whether a transaction is open, and whether a failed statement aborted it (PQTRANS_INERROR:
  // every statement but ROLLBACK [TO] now fails).
  PGTransactionStatusType transaction_status() const { return PQtransactionStatus(conn_); }
  // Reconnects with the same conninfo; the server forgets the prepared statements, so the
  // cache starts over. Throws PgError (unavailable) when the server is still unreachable.
  void Reset();
  PGconn* handle() { return conn_; }

 private:
  // Throws unless res is a successful result (PQclear-ing it first).
  Result Check(PGresult* res, const char* what);
  const std::string& Prepared(std::string_view sql, int nparams);

  // Looks SQL text up without copying it into a std::string first.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::string conninfo_;
  PGconn* conn_ = nullptr;
  // SQL text -> statement name.
  std::unordered_map<std::string, std::string, SqlHash, std::equal_to<>> prepared_;
};

}  // namespace polaris::pg
