#include "store/postgres/pg_connection.h"

#include <charconv>
#include <cstring>
#include <vector>

#include "store/postgres/pg_text.h"

namespace polaris::pg {
namespace {

std::string Trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void IgnoreNotice(void*, const char*) {}

std::string Field(const PGresult* res, int code) {
  const char* v = PQresultErrorField(res, code);
  return v ? v : "";
}

}  // namespace

bool PgError::Unavailable(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return false;
  const std::string_view cls = sqlstate.substr(0, 2);
  return cls == "08" || cls == "53" || cls == "57" || cls == "58" || sqlstate == "40001" ||
         sqlstate == "40P01" || sqlstate == "55P03";
}

Param::Param(std::int64_t v) {
  SetNumber(v);
}
Param::Param(const std::optional<std::string>& s) {
  if (s) SetText(*s);
}
Param::Param(const Param& other)
    : text_(other.text_), escaped_(other.escaped_), owns_(other.owns_), number_(other.number_) {
  std::memcpy(digits_, other.digits_, sizeof digits_);
  if (owns_) text_ = escaped_.c_str();
}
void Param::SetText(std::string_view s) {
  // A std::string or a literal: NUL-terminated after s.size() bytes.
  if (!NeedsEscape(s)) {
    text_ = s.data();
    return;
  }
  escaped_ = EscapeText(s);
  owns_ = true;
  text_ = escaped_.c_str();
}
Param::Param(const std::optional<std::int64_t>& v) {
  if (v) SetNumber(*v);
}
void Param::SetNumber(std::int64_t v) {
  number_ = true;
  auto r = std::to_chars(digits_, digits_ + sizeof(digits_) - 1, v);
  *r.ptr = '\0';
}
std::string Row::Text(int col) const {
  return UnescapeText(std::string_view(PQgetvalue(res_, row_, col),
                                       static_cast<std::size_t>(PQgetlength(res_, row_, col))));
}
std::optional<std::string> Row::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}
std::int64_t Row::Int(int col) const {
  if (IsNull(col)) return 0;  // as sqlite3_column_int64 reads NULL
  const char* p = PQgetvalue(res_, row_, col);
  const char* end = p + PQgetlength(res_, row_, col);
  std::int64_t v = 0;
  auto r = std::from_chars(p, end, v);
  if (r.ec != std::errc() || r.ptr != end) {
    throw PgError("", std::string("postgres: not an integer: ") + p, false);
  }
  return v;
}
std::optional<std::int64_t> Row::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    PQclear(res_);
    res_ = std::exchange(other.res_, nullptr);
  }
  return *this;
}

Connection::Connection(std::string conninfo) : conninfo_(std::move(conninfo)) {
  // Entries before the expanded dbname are defaults the conninfo may override; those after
  // it win. Every string Polaris sends and reads is UTF-8.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding",
                        nullptr};
  const char* values[] = {"5", "polaris", conninfo_.c_str(), "UTF8", nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!ok()) {
    std::string msg = conn_ ? Trimmed(PQerrorMessage(conn_)) : "out of memory";
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError("", "postgres: cannot connect: " + msg, true);
  }
  // Notices ("relation already exists, skipping") would otherwise go to stderr.
  PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
}

Connection::~Connection() {
  PQfinish(conn_);
}

Result Connection::Check(PGresult* res, const char* what) {
  if (!res) {
    throw PgError("", std::string("postgres: ") + what + ": " + Trimmed(PQerrorMessage(conn_)),
                  true);
  }
  switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
      return Result(res);
    default:
      break;
  }
  std::string sqlstate = Field(res, PG_DIAG_SQLSTATE);
  std::string msg = Trimmed(PQresultErrorMessage(res));
  std::string constraint = Field(res, PG_DIAG_CONSTRAINT_NAME);
  PQclear(res);
  // A lost connection often has no SQLSTATE (libpq notices the closed socket itself).
  const bool unavailable = PgError::Unavailable(sqlstate) || !ok();
  PgError err(sqlstate, std::string("postgres: ") + what + ": " + msg, unavailable);
  err.constraint = std::move(constraint);
  throw err;
}

Result Connection::Exec(const char* sql) {
  return Check(PQexec(conn_, sql), "exec");
}

const std::string& Connection::Prepared(std::string_view sql, int nparams) {
  auto it = prepared_.find(sql);
  if (it != prepared_.end()) return it->second;
  std::string text(sql);
  std::string name = "p" + std::to_string(prepared_.size() + 1);
  Check(PQprepare(conn_, name.c_str(), text.c_str(), nparams, nullptr), "prepare");
  return prepared_.emplace(std::move(text), std::move(name)).first->second;
}

Result Connection::Query(std::string_view sql, std::initializer_list<Param> params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p.value());
  const int n = static_cast<int>(values.size());
  const std::string& name = Prepared(sql, n);
  return Check(PQexecPrepared(conn_, name.c_str(), n, values.data(), nullptr, nullptr, 0), "query");
}

void Connection::Reset() {
  prepared_.clear();
  PQreset(conn_);
  if (!ok()) {
    throw PgError("", "postgres: cannot reconnect: " + Trimmed(PQerrorMessage(conn_)), true);
  }
}

}  // namespace polaris::pg
