#include "store/postgres/pg_change_feed.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string_view>

#include "domain/log.h"
#include "domain/topics.h"
#include "store/postgres/pg_connection.h"

namespace polaris::pg {
namespace {

constexpr const char* kChannel = "polaris_changes";
constexpr const char* kListen = "LISTEN polaris_changes";
// A payload must stay under 8000 bytes; topics are ids with a short prefix.
constexpr std::size_t kMaxPayload = 7000;
constexpr auto kMinBackoff = std::chrono::milliseconds(50);
constexpr auto kMaxBackoff = std::chrono::milliseconds(2000);

// A string literal for the simple protocol (standard_conforming_strings is on by default
// since PostgreSQL 9.1, so a backslash is an ordinary character).
void AppendLiteral(std::string& out, std::string_view s) {
  out += '\'';
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
}

void AppendNotify(std::string& sql, const std::string& payload) {
  sql += "SELECT pg_notify('";
  sql += kChannel;
  sql += "', ";
  AppendLiteral(sql, payload);
  sql += "); ";
}

}  // namespace

std::string ChangeFeed::NotifySql(const std::string& origin,
                                  const std::vector<std::string>& topics) {
  std::string sql;
  std::string payload = origin;
  bool any = false;
  for (const auto& t : topics) {
    if (t.find('\0') != std::string::npos || t.find('\n') != std::string::npos) continue;
    if (any && payload.size() + 1 + t.size() > kMaxPayload) {
      AppendNotify(sql, payload);
      payload = origin;
      any = false;
    }
    payload += '\n';
    payload += t;
    any = true;
  }
  if (any) AppendNotify(sql, payload);
  return sql;
}

ChangeFeed::ChangeFeed(const std::string& conninfo, std::string origin, Deliver deliver)
    : origin_(std::move(origin)), deliver_(std::move(deliver)) {
  db_ = std::make_unique<Connection>(conninfo);
  db_->Exec(kListen);
  if (pipe(wake_) != 0) throw PgError("", "postgres: change feed: pipe() failed", false);
  thread_ = std::thread([this] { Loop(); });
}

ChangeFeed::~ChangeFeed() {
  stop_ = true;
  if (wake_[1] >= 0) {
    const char b = 1;
    [[maybe_unused]] auto n = write(wake_[1], &b, 1);
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

bool ChangeFeed::Drain(std::vector<std::string>& topics) {
  PGconn* conn = db_->handle();
  if (!PQconsumeInput(conn)) return false;
  while (PGnotify* n = PQnotifies(conn)) {
    std::string_view payload(n->extra);
    const auto nl = payload.find('\n');
    if (payload.substr(0, nl) != origin_ && nl != std::string_view::npos) {
      payload.remove_prefix(nl + 1);
      while (!payload.empty()) {
        const auto end = std::min(payload.find('\n'), payload.size());
        topics.emplace_back(payload.substr(0, end));
        payload.remove_prefix(std::min(end + 1, payload.size()));
      }
    }
    PQfreemem(n);
  }
  return PQstatus(conn) == CONNECTION_OK;
}

void ChangeFeed::Loop() {
  auto backoff = kMinBackoff;
  bool lost = false;
  std::vector<std::string> topics;
  while (!stop_) {
    if (!lost && PQstatus(db_->handle()) != CONNECTION_OK) lost = true;
    if (lost) {
      try {
        db_->Reset();
        db_->Exec(kListen);
        if (backoff != kMinBackoff) LogInfo("postgres change feed: listening again");
        lost = false;
        backoff = kMinBackoff;
        // Commits made while nobody listened were not heard: re-read everything.
        deliver_({topics::Everything()});
      } catch (const std::exception& e) {
        if (backoff == kMinBackoff) {
          LogWarn("postgres change feed: reconnecting failed; retrying", {{"error", e.what()}});
        }
        pollfd w{wake_[0], POLLIN, 0};
        poll(&w, 1, static_cast<int>(backoff.count()));
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
        continue;
      }
    }
    pollfd fds[2] = {{PQsocket(db_->handle()), POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 2, 1000) < 0) continue;  // EINTR
    if (stop_) break;
    if (fds[0].revents == 0) continue;
    topics.clear();
    const bool up = Drain(topics);
    if (!topics.empty()) {
      std::sort(topics.begin(), topics.end());
      topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
      deliver_(std::move(topics));
      topics = {};
    }
    if (!up) {
      LogWarn("postgres change feed: connection lost; reconnecting");
      lost = true;
    }
  }
}

}  // namespace polaris::pg
