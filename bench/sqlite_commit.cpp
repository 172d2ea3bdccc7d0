// SQLite's own commit rate for `make bench`: single-row INSERT commits into a fresh WAL
// database with the pragmas Polaris' store uses (src/store/sqlite/database.cpp:
// journal_mode=WAL, synchronous=FULL for a durable write, cache_size=-32768,
// SQLITE_CONFIG_MEMSTATUS off), one prepared INSERT of a 200-byte body per
// BEGIN IMMEDIATE ... COMMIT. One thread, no server around it.
// Usage: sqlite_commit DB_PATH [SECONDS=5] [FULL|NORMAL]
// Prints one JSON line: {"commits":N,"seconds":S,"rate":N/S,"synchronous":"FULL"}.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

static void Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql, err ? err : "?");
    std::exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sqlite_commit DB_PATH [SECONDS] [FULL|NORMAL]\n");
    return 2;
  }
  const double seconds = argc > 2 ? std::atof(argv[2]) : 5.0;
  const std::string sync = argc > 3 ? argv[3] : "FULL";
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(argv[1], &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 1;
  }
  Exec(db, ("PRAGMA synchronous=" + sync).c_str());
  Exec(db, "PRAGMA journal_mode=WAL");
  Exec(db, "PRAGMA cache_size=-32768");
  Exec(db,
       "CREATE TABLE IF NOT EXISTS msg(id INTEGER PRIMARY KEY, conv TEXT NOT NULL, body TEXT NOT "
       "NULL, created INTEGER NOT NULL)");
  sqlite3_stmt *ins = nullptr, *begin = nullptr, *commit = nullptr;
  sqlite3_prepare_v3(db, "INSERT INTO msg(conv, body, created) VALUES (?1, ?2, ?3)", -1,
                     SQLITE_PREPARE_PERSISTENT, &ins, nullptr);
  sqlite3_prepare_v3(db, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT, &begin, nullptr);
  sqlite3_prepare_v3(db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &commit, nullptr);
  const std::string body(200, 'b');
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const auto end = t0 + std::chrono::duration<double>(seconds);
  long long n = 0;
  while (clock::now() < end) {
    for (int k = 0; k < 16; ++k) {
      sqlite3_step(begin);
      sqlite3_reset(begin);
      sqlite3_bind_text(ins, 1, "conv-0001", -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 2, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins, 3, n);
      if (sqlite3_step(ins) != SQLITE_DONE) {
        std::fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
        return 1;
      }
      sqlite3_reset(ins);
      if (sqlite3_step(commit) != SQLITE_DONE) {
        std::fprintf(stderr, "commit: %s\n", sqlite3_errmsg(db));
        return 1;
      }
      sqlite3_reset(commit);
      ++n;
    }
  }
  const double s = std::chrono::duration<double>(clock::now() - t0).count();
  std::printf("{\"commits\":%lld,\"seconds\":%.3f,\"rate\":%.1f,\"synchronous\":\"%s\"}\n", n, s,
              n / s, sync.c_str());
  sqlite3_finalize(ins);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  sqlite3_close(db);
  return 0;
}
