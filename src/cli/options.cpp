#include "cli/options.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "store/migrate/db_url.h"

namespace polaris::cli {
namespace {
std::string Env(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

constexpr const char* kMigrateUsage =
    "usage: polaris migrate-db --from DB --to DB\n"
    "  DB: sqlite:PATH, a postgres://... URI or a libpq \"key=value ...\" string; the target "
    "must hold no data\n";

// What is wrong with migrate-db's arguments, or "" (the schemes follow serve's --db).
std::string MigrateDbProblem(const MigrateDbOptions& o) {
  using migrate::ClassifyDb;
  using migrate::DbKind;
  if (o.from.empty()) return "--from is required";
  if (o.to.empty()) return "--to is required";
  for (const auto& [flag, db] : {std::pair{"--from", &o.from}, std::pair{"--to", &o.to}}) {
    if (ClassifyDb(*db) == DbKind::kUnknown) {
      return std::string("unsupported ") + flag + " '" + *db +
             "': use sqlite:PATH, a postgres:// URI or a libpq connection string";
    }
  }
  if (o.from == o.to) return "--from and --to name the same database";
  return "";
}
}  // namespace

Command ParseCommandLine(int argc, char** argv) {
  Command cmd;
  cmd.serve.host = Env("POLARIS_HOST", cmd.serve.host);
  cmd.serve.db = Env("POLARIS_DB", cmd.serve.db);
  cmd.serve.data_dir = Env("POLARIS_DATA_DIR", cmd.serve.data_dir);
  cmd.serve.web_dir = Env("POLARIS_WEB_DIR", cmd.serve.web_dir);
  cmd.serve.local_user = Env("POLARIS_LOCAL_USER", cmd.serve.local_user);
  cmd.serve.log_level = Env("POLARIS_LOG_LEVEL", cmd.serve.log_level);
  cmd.token.data_dir = cmd.serve.data_dir;
  std::string port = Env("PORT", "3000");
  std::string max_runs = Env("POLARIS_MAX_RUNS", "256");

  CLI::App app{"Polaris server: the backend of an AI coding IDE"};
  app.require_subcommand(1);
  auto* serve = app.add_subcommand("serve", "Run the HTTP server");
  serve->add_option("--host", cmd.serve.host, "Address to listen on (POLARIS_HOST)");
  serve->add_option("--port", port, "Port, 0 picks a free one (PORT)");
  serve->add_option("--db", cmd.serve.db, "sqlite:PATH or postgres://... (POLARIS_DB)");
  serve->add_option("--data-dir", cmd.serve.data_dir, "Data directory (POLARIS_DATA_DIR)");
  serve->add_option("--max-runs", max_runs, "Concurrent message runs (POLARIS_MAX_RUNS)");
  serve->add_option("--web-dir", cmd.serve.web_dir,
                    "Serve the web page from this folder, not the binary (POLARIS_WEB_DIR)");
  serve->add_option("--local-user", cmd.serve.local_user,
                    "User of the printed sign-in link; \"\" prints none (POLARIS_LOCAL_USER)");
  serve
      ->add_option("--log-level", cmd.serve.log_level,
                   "Least level of the JSON log lines on stderr (POLARIS_LOG_LEVEL)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  auto* token = app.add_subcommand("token", "Print an HS256 token for a user");
  token->add_option("--user", cmd.token.user, "User id (the token's sub)")->required();
  token->add_option("--ttl", cmd.token.ttl_seconds, "Lifetime in seconds")
      ->check(CLI::Range(1LL, 10LL * 365 * 24 * 3600));
  token->add_option("--data-dir", cmd.token.data_dir, "Data directory (POLARIS_DATA_DIR)");

  auto* mock = app.add_subcommand("mock-llm", "Run the scripted OpenAI-compatible test provider");
  mock->add_option("--host", cmd.mock.host, "Address to listen on");
  mock->add_option("--port", cmd.mock.port, "Port, 0 picks a free one");

  auto* migrate = app.add_subcommand(
      "migrate-db",
      "Copy every table into an empty database (SQLite <-> PostgreSQL), verified per table");
  migrate->add_option("--from", cmd.migrate_db.from,
                      "Source: sqlite:PATH, postgres://... or a libpq connection string");
  migrate->add_option("--to", cmd.migrate_db.to, "Target, which must hold no data: same forms");

  try {
    app.parse(argc, argv);
    if (*mock) {
      cmd.kind = Command::Kind::kMockLlm;
    } else if (*serve) {
      cmd.kind = Command::Kind::kServe;
      int p = std::stoi(port);
      int m = std::stoi(max_runs);
      if (p < 0 || p > 65535) throw CLI::ValidationError("--port", "must be 0-65535");
      if (m < 1) throw CLI::ValidationError("--max-runs", "must be at least 1");
      cmd.serve.port = static_cast<unsigned short>(p);
      cmd.serve.max_runs = m;
    } else if (*migrate) {
      cmd.kind = Command::Kind::kMigrateDb;
      if (std::string why = MigrateDbProblem(cmd.migrate_db); !why.empty()) {
        std::fprintf(stderr, "polaris migrate-db: %s\n%s", why.c_str(), kMigrateUsage);
        cmd.kind = Command::Kind::kExit;
        cmd.exit_code = 2;
      }
    } else {
      cmd.kind = Command::Kind::kToken;
    }
  } catch (const CLI::ParseError& e) {
    cmd.kind = Command::Kind::kExit;
    cmd.exit_code = app.exit(e);
    if (*migrate && cmd.exit_code != 0) {  // bad usage exits 2, with the usage line
      std::fputs(kMigrateUsage, stderr);
      cmd.exit_code = 2;
    }
  } catch (const std::exception&) {
    std::fprintf(stderr, "polaris: --port and --max-runs must be numbers\n");
    cmd.kind = Command::Kind::kExit;
    cmd.exit_code = 2;
  }
  return cmd;
}

}  // namespace polaris::cli
