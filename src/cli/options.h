#pragma once
// Command-line and environment configuration (README, "Configuration").
#include <optional>
#include <string>

namespace polaris::cli {

struct ServeOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  std::string db = "sqlite:./data/polaris.db";
  std::string data_dir = "./data";
  int max_runs = 256;
  std::string web_dir;               // serve the page from this folder instead of the binary
  std::string local_user = "local";  // the sign-in link's user; empty: no link
  std::string log_level = "info";    // debug, info, warn, error
};

struct TokenOptions {
  std::string user;
  long long ttl_seconds = 3600;
  std::string data_dir = "./data";
};

struct MockLlmOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
};

// Each is sqlite:PATH, a postgres:// URI or a libpq "key=value" string (as serve's --db).
struct MigrateDbOptions {
  std::string from;
  std::string to;  // must hold no data yet
};

struct Command {
  enum class Kind { kServe, kToken, kMockLlm, kMigrateDb, kExit } kind = Kind::kExit;
  ServeOptions serve;
  TokenOptions token;
  MockLlmOptions mock;
  MigrateDbOptions migrate_db;
  int exit_code = 0;  // for kExit (help, bad usage)
};

// Flags win over environment variables, which win over defaults.
Command ParseCommandLine(int argc, char** argv);

}  // namespace polaris::cli
