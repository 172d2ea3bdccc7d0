// polaris: wires the layers together. No logic lives here.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <thread>

#include "app/context.h"
#include "auth/jwt.h"
#include "auth/secret.h"
#include "cli/options.h"
#include "domain/env.h"
#include "domain/limits.h"
#include "domain/live_tail.h"
#include "domain/log.h"
#include "domain/rate_limiter.h"
#include "domain/run_lease.h"
#include "domain/topics.h"
#include "domain/user_slots.h"
#include "http/api.h"
#include "http/router.h"
#include "http/server.h"
#include "http/static_site.h"
#include "metrics/metrics.h"
#include "mockllm/mock_llm.h"
#include "providers/chain.h"
#include "realtime/commit_clock.h"
#include "realtime/conversation_events.h"
#include "realtime/mutation_log.h"
#include "realtime/query_hub.h"
#include "realtime/sync_session.h"
#include "runs/run_manager.h"
#include "store/migrate/migrate_db_command.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_client.h"

namespace {
using namespace polaris;

std::optional<std::string> EnvOpt(const char* name) {
  return EnvString(name);
}

// The numeric settings of `serve` (README "Configuration"), read before anything starts: a
// malformed value stops the start with a message naming the variable; documented ranges clamp.
struct NumericSettings {
  Millis run_lease_ms = 10000;
  int pg_writers = 2;
  int live_interval_ms = 25;
  int max_steps = 10;
  int flush_interval_ms = 100;
};
Result<NumericSettings> NumericSettingsFromEnv() {
  NumericSettings s;
  struct Item {
    const char* name;
    long long fallback, min, max;
    std::function<void(long long)> set;
  };
  const Item items[] = {
      {"POLARIS_RUN_LEASE_MS", s.run_lease_ms, 500, 600000,
       [&](long long v) { s.run_lease_ms = v; }},
      {"POLARIS_PG_WRITERS", s.pg_writers, 1, 16, [&](long long v) { s.pg_writers = int(v); }},
      {"POLARIS_LIVE_INTERVAL_MS", s.live_interval_ms, 1, 1000,
       [&](long long v) { s.live_interval_ms = int(v); }},
      {"POLARIS_MAX_STEPS", s.max_steps, 1, 1000, [&](long long v) { s.max_steps = int(v); }},
      {"POLARIS_FLUSH_INTERVAL_MS", s.flush_interval_ms, 10, 1000,
       [&](long long v) { s.flush_interval_ms = int(v); }},
  };
  for (const auto& item : items) {
    auto v = EnvIntegerIn(item.name, item.fallback, item.min, item.max);
    if (!v) return v.error();
    item.set(*v);
  }
  return s;
}

int Fail(const std::string& message) {
  std::cerr << "polaris: " << message << "\n";
  return 1;
}

int Token(const cli::TokenOptions& o) {
  auto secret = ResolveHsSecret(o.data_dir);
  if (!secret) return Fail(secret.error().message);
  std::cout << IssueHs256Token(*secret, o.user, std::time(nullptr), o.ttl_seconds,
                               EnvOpt("POLARIS_JWT_ISSUER"), EnvOpt("POLARIS_JWT_AUDIENCE"))
            << "\n";
  return 0;
}

// A browser-usable address for the sign-in link: a wildcard listen address becomes loopback.
std::string LinkHost(const std::string& host) {
  if (host == "0.0.0.0" || host.empty()) return "127.0.0.1";
  if (host == "::") return "[::1]";
  if (host.find(':') != std::string::npos) return "[" + host + "]";
  return host;
}

int Serve(const cli::ServeOptions& o) {
  const auto log_level = ParseLogLevel(o.log_level);
  if (!log_level) {
    return Fail("--log-level (POLARIS_LOG_LEVEL) must be debug, info, warn or error, not '" +
                o.log_level + "'");
  }
  SetLogLevel(*log_level);
  auto limits = LimitsFromEnv();
  if (!limits.error.empty()) return Fail(limits.error);
  SetLimits(limits.limits);
  auto secret = ResolveHsSecret(o.data_dir);
  if (!secret) return Fail(secret.error().message);
  auto verifier = TokenVerifier::Create(
      AuthConfig{*secret, EnvOpt("POLARIS_JWKS_FILE").value_or(""), EnvOpt("POLARIS_JWT_ISSUER"),
                 EnvOpt("POLARIS_JWT_AUDIENCE")});
  if (!verifier) return Fail(verifier.error().message);

  constexpr std::string_view kSqlite = "sqlite:";
  // A postgres:// URI, or a libpq "key=value ..." connection string.
  const bool postgres = !o.db.starts_with(kSqlite) &&
                        (o.db.starts_with("postgres://") || o.db.starts_with("postgresql://") ||
                         o.db.find('=') != std::string::npos);
  if (!o.db.starts_with(kSqlite) && !postgres) {
    return Fail("unsupported --db '" + o.db +
                "': use sqlite:PATH, a postgres:// URI or a libpq connection string");
  }
  auto numbers = NumericSettingsFromEnv();
  if (!numbers) return Fail(numbers.error().message);
  // Processes sharing a database take over each other's runs once a lease expires.
  SetRunLease(RunLeaseConfig{NewProcessName(), numbers->run_lease_ms});
  const int threads = std::max(2u, std::thread::hardware_concurrency());
  std::unique_ptr<Store> store;
  try {
    if (postgres) {
      // Several writers: each waits on its own round trips, so they overlap.
      store = std::make_unique<pg::PgStore>(o.db, threads, numbers->pg_writers);
    } else {
      std::filesystem::path db_path = o.db.substr(kSqlite.size());
      std::error_code ec;
      if (db_path.has_parent_path()) std::filesystem::create_directories(db_path.parent_path(), ec);
      store = std::make_unique<sqlite::SqliteStore>(db_path.string(), threads);
    }
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  StoreClient db(*store);
  Metrics metrics;
  auto chain_config = providers::ChainConfigFromEnv();
  if (!chain_config) return Fail(chain_config.error().message);
  {
    // The settings this process runs with (no secrets: a PostgreSQL URI may hold a password).
    std::string providers_named;
    for (const auto& p : chain_config->providers) {
      providers_named += (providers_named.empty() ? "" : ",") + p.name + ":" + p.model;
    }
    LogInfo("starting", {{"store", postgres ? "postgres" : "sqlite"},
                         {"db", postgres ? std::string("(hidden)") : o.db},
                         {"host", o.host},
                         {"port", o.port},
                         {"threads", threads},
                         {"max_runs", o.max_runs},
                         {"max_steps", numbers->max_steps},
                         {"run_lease_ms", numbers->run_lease_ms},
                         {"pg_writers", numbers->pg_writers},
                         {"providers", providers_named.empty() ? "none" : providers_named},
                         {"log_level", LogLevelName(*log_level)}});
  }
  providers::ProviderChain chain(std::move(*chain_config), &metrics);
  http::Router router(**verifier);

  {
    // Before the server: connections still open at exit release their stream slots while
    // the server's event loop is destroyed.
    UserSlots streams;
    LiveTail live;  // streamed text, from runs to watchers, ahead of the store
    http::Server server({o.host, o.port, threads, &metrics, std::nullopt}, router);
    // Live updates: every commit advances the protocol clock and re-runs the live queries
    // that read what it changed.
    realtime::CommitClock clock;
    // How often a message list is pushed again while a reply streams (the first push of new
    // text goes at once).
    const std::chrono::milliseconds live_interval{numbers->live_interval_ms};
    realtime::QueryHub hub(server.context().get_executor(), *store, &live, live_interval);
    realtime::MutationLog mutations(static_cast<std::size_t>(CurrentLimits().mutation_log_bytes));
    realtime::SyncDeps sync{hub, db, clock, mutations, **verifier, streams};
    server.EnableSync(sync);
    realtime::ConversationEvents events(server.context().get_executor(), hub, &live);
    agent::AgentConfig agent_config;
    agent_config.max_steps = numbers->max_steps;
    agent_config.flush_interval = std::chrono::milliseconds(numbers->flush_interval_ms);
    runs::RunManager runs(server.context().get_executor(),
                          agent::AgentDeps{db, chain, agent_config, &metrics, &live},
                          runs::RunManagerConfig{.max_runs = o.max_runs, .shared_store = postgres});
    // Commits, this process's and (PostgreSQL) the others': the protocol clock advances, live
    // queries that read what changed re-run, and a cancelled run executing here stops.
    try {
      store->SetCommitListener([&clock, &hub, &runs](std::vector<std::string> topics) {
        clock.Advance();
        for (const auto& t : topics) {
          if (auto run_id = topics::ParseRunCancelled(t)) runs.Cancel(std::string(*run_id));
        }
        hub.OnCommit(std::move(topics));
      });
    } catch (const std::exception& e) {
      return Fail(e.what());
    }
    RateLimiter message_rate, ai_rate;
    app::AppContext app{db, runs, chain, message_rate, ai_rate, live};
    http::RegisterHealthRoutes(router);
    http::RegisterMetricsRoutes(router, metrics, EnvOpt("POLARIS_METRICS_TOKEN").value_or(""));
    http::RegisterProjectRoutes(router, db);
    http::RegisterFileRoutes(router, db);
    http::RegisterFileBulkRoutes(router, db);
    http::RegisterConversationRoutes(router, db);
    http::RegisterMessageRoutes(router, app);
    http::RegisterAiRoutes(router, app);
    http::RegisterConvexRoutes(router, db, clock);
    http::RegisterEventRoutes(router, db, events, streams);
    if (!o.web_dir.empty() && !std::filesystem::is_directory(o.web_dir)) {
      return Fail("--web-dir '" + o.web_dir + "' is not a folder");
    }
    auto site = o.web_dir.empty() ? http::StaticSite::Embedded()
                                  : http::StaticSite::FromDirectory(o.web_dir);
    http::RegisterWebPage(router, *site);
    runs.Recover();
    unsigned short port = 0;
    try {
      port = server.Listen();
    } catch (const std::exception& e) {
      return Fail("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + e.what());
    }
    std::printf("polaris listening on http://%s:%u\n", o.host.c_str(), port);
    LogInfo("listening", {{"host", o.host}, {"port", port}});
    if (!o.local_user.empty()) {
      // The token rides in the fragment, which browsers never send: it stays out of logs.
      constexpr long long kLinkTtlSeconds = 7LL * 24 * 3600;
      const std::string token =
          IssueHs256Token(*secret, o.local_user, std::time(nullptr), kLinkTtlSeconds,
                          EnvOpt("POLARIS_JWT_ISSUER"), EnvOpt("POLARIS_JWT_AUDIENCE"));
      std::printf("polaris sign-in: http://%s:%u/#token=%s\n", LinkHost(o.host).c_str(), port,
                  token.c_str());
    }
    std::fflush(stdout);
    server.Run([&runs](std::function<void()> wake) { runs.Shutdown(std::move(wake)); },
               [&runs] { return runs.Idle(); });
    store->Close();  // every acknowledged write is committed before the loop goes away
  }
  LogInfo("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto cmd = polaris::cli::ParseCommandLine(argc, argv);
  switch (cmd.kind) {
    case polaris::cli::Command::Kind::kServe:
      return Serve(cmd.serve);
    case polaris::cli::Command::Kind::kToken:
      return Token(cmd.token);
    case polaris::cli::Command::Kind::kMockLlm:
      return polaris::mockllm::RunMockLlm({cmd.mock.host, cmd.mock.port});
    case polaris::cli::Command::Kind::kMigrateDb:
      return polaris::migrate::RunMigrateDb(cmd.migrate_db);
    case polaris::cli::Command::Kind::kExit:
      return cmd.exit_code;
  }
  return 2;
}
