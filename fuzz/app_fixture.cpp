#include "app_fixture.h"

#include <stdlib.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <future>
#include <optional>
#include <stdexcept>

#include "app/context.h"
#include "auth/jwt.h"
#include "domain/ids.h"
#include "domain/limits.h"
#include "domain/live_tail.h"
#include "domain/rate_limiter.h"
#include "domain/topics.h"
#include "domain/user_slots.h"
#include "http/api.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "providers/chain.h"
#include "realtime/commit_clock.h"
#include "realtime/conversation_events.h"
#include "realtime/mutation_log.h"
#include "realtime/query_hub.h"
#include "realtime/sync_session.h"
#include "runs/run_manager.h"
#include "services/conversations.h"
#include "services/files.h"
#include "services/projects.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_client.h"

namespace polaris::fuzz {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
constexpr char kSecret[] = "polaris-fuzz-secret-0123456789abcdef";
}

struct App::Impl {
  Impl() {
    // AI spend limits are per minute: at fuzzing speed they would answer 429 to nearly every
    // input after the first second and hide the code behind them.
    Limits limits = CurrentLimits();
    limits.messages_per_minute = 1 << 30;
    limits.ai_calls_per_minute = 1 << 30;
    SetLimits(limits);

    const char* base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string tmpl = std::string(base) + "/polaris_fuzz_XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    store = std::make_unique<sqlite::SqliteStore>(dir + "/polaris.db", 2);
    db = std::make_unique<StoreClient>(*store);
    chain = std::make_unique<providers::ProviderChain>(providers::ChainConfig{}, &metrics);
    auto v = TokenVerifier::Create(AuthConfig{kSecret, "", {}, {}});
    if (!v.ok()) throw std::runtime_error(v.error().message);
    verifier = std::move(v.value());
    router = std::make_unique<http::Router>(*verifier);
    hub = std::make_unique<realtime::QueryHub>(ioc.get_executor(), *store, &live);
    mutations = std::make_unique<realtime::MutationLog>(
        static_cast<std::size_t>(CurrentLimits().mutation_log_bytes));
    sync = std::make_unique<realtime::SyncDeps>(
        realtime::SyncDeps{*hub, *db, clock, *mutations, *verifier, streams});
    events = std::make_unique<realtime::ConversationEvents>(ioc.get_executor(), *hub, &live);
    agent::AgentConfig agent_config;
    runs = std::make_unique<runs::RunManager>(
        ioc.get_executor(), agent::AgentDeps{*db, *chain, agent_config, &metrics, &live},
        runs::RunManagerConfig{});
    store->SetCommitListener([this](std::vector<std::string> topics) {
      clock.Advance();
      for (const auto& t : topics) {
        if (auto run_id = topics::ParseRunCancelled(t)) runs->Cancel(std::string(*run_id));
      }
      hub->OnCommit(std::move(topics));
    });
    app = std::make_unique<app::AppContext>(
        app::AppContext{*db, *runs, *chain, message_rate, ai_rate, live});
    http::RegisterHealthRoutes(*router);
    http::RegisterMetricsRoutes(*router, metrics, "");
    http::RegisterProjectRoutes(*router, *db);
    http::RegisterFileRoutes(*router, *db);
    http::RegisterFileBulkRoutes(*router, *db);
    http::RegisterConversationRoutes(*router, *db);
    http::RegisterMessageRoutes(*router, *app);
    http::RegisterAiRoutes(*router, *app);
    http::RegisterConvexRoutes(*router, *db, clock);
    http::RegisterEventRoutes(*router, *db, *events, streams);
  }

  // Runs one write job and waits for it (the loop does not run meanwhile).
  void Write(const std::function<void(Repo&)>& fn) {
    std::promise<std::exception_ptr> done;
    auto fut = done.get_future();
    store->SubmitWrite(
        [&fn](Repo& repo) {
          fn(repo);
          return true;
        },
        [&done](std::exception_ptr e) { done.set_value(e); });
    if (auto e = fut.get()) std::rethrow_exception(e);
  }

  Tenant NewTenant(int n) {
    Tenant t;
    t.user = "user_fuzz" + std::to_string(n);
    t.token = IssueHs256Token(kSecret, t.user, std::time(nullptr), 24 * 3600);
    Write([&](Repo& repo) {
      auto p = services::CreateProject(repo, t.user, "Fuzz", 1000);
      if (!p.ok()) throw std::runtime_error("CreateProject: " + p.error().message);
      t.project_id = p->id;
      auto c = services::CreateConversation(repo, t.user, t.project_id, "Chat", 2000);
      if (!c.ok()) throw std::runtime_error("CreateConversation: " + c.error().message);
      t.conversation_id = c->id;
      auto f = services::WriteFileAtPath(repo, t.project_id, "src/main.ts", "let a = 1;\n", 3000);
      if (!f.ok()) throw std::runtime_error("WriteFileAtPath: " + f.error().message);
      t.file_id = f->id;
      auto d = services::ResolvePath(repo, t.project_id, {"src"});
      if (!d) throw std::runtime_error("ResolvePath: no src");
      t.folder_id = d->id;
    });
    return t;
  }

  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::string dir;
  Metrics metrics;
  LiveTail live;  // outlives the hub, which watches it
  realtime::CommitClock clock;
  UserSlots streams;
  RateLimiter message_rate, ai_rate;
  std::unique_ptr<sqlite::SqliteStore> store;
  std::unique_ptr<StoreClient> db;
  std::unique_ptr<providers::ProviderChain> chain;
  std::unique_ptr<TokenVerifier> verifier;
  std::unique_ptr<http::Router> router;
  std::unique_ptr<realtime::QueryHub> hub;
  std::unique_ptr<realtime::MutationLog> mutations;
  std::unique_ptr<realtime::SyncDeps> sync;
  std::unique_ptr<realtime::ConversationEvents> events;
  std::unique_ptr<runs::RunManager> runs;
  std::unique_ptr<app::AppContext> app;
  std::optional<Tenant> tenant;
  int calls = 0;
  int tenants = 0;
};

App& App::Get() {
  static App* app = new App();  // never destroyed: store threads may still be finishing
  return *app;
}

App::App() : impl_(std::make_unique<Impl>()) {}

asio::io_context& App::ioc() {
  return impl_->ioc;
}

const realtime::SyncDeps& App::sync() const {
  return *impl_->sync;
}

bool App::RunUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    impl_->ioc.run_for(1ms);
  }
  return true;
}

void App::Poll() {
  impl_->ioc.poll();
}

http::Response App::Dispatch(http::Request req) {
  struct State {
    bool done = false;
    std::exception_ptr error;
    http::Response res;
  };
  auto state = std::make_shared<State>();
  auto& router = *impl_->router;
  asio::co_spawn(
      impl_->ioc,
      [&router, req = std::move(req)]() mutable -> asio::awaitable<http::Response> {
        co_return co_await router.Dispatch(req);
      },
      [state](std::exception_ptr e, http::Response res) {
        state->done = true;
        state->error = e;
        state->res = std::move(res);
      });
  if (!RunUntil([&] { return state->done; })) {
    std::fprintf(stderr, "fuzz: Router::Dispatch gave no answer within 10 s\n");
    std::abort();
  }
  // Dispatch answers every failure itself (500 at worst): an exception escaping it would end
  // the server's connection coroutine, so it is a finding.
  if (state->error) std::rethrow_exception(state->error);
  return std::move(state->res);
}

Result<VerifiedToken> App::AuthenticatedUser(std::string_view authorization) const {
  return impl_->router->AuthenticatedUser(authorization);
}

bool App::NeedsAuth(std::string_view method, std::string_view target) const {
  return impl_->router->NeedsAuth(method, target);
}

std::size_t App::BodyLimit(std::string_view method, std::string_view target,
                           std::size_t general) const {
  return impl_->router->BodyLimit(method, target, general);
}

const Tenant& App::CurrentTenant(int every) {
  if (!impl_->tenant || ++impl_->calls >= every) {
    impl_->calls = 0;
    impl_->tenant = impl_->NewTenant(++impl_->tenants);
  }
  return *impl_->tenant;
}

std::string App::Substitute(std::string text, const Tenant& t) {
  const std::pair<std::string_view, const std::string*> vars[] = {
      {"$USER", &t.user},          {"$TOKEN", &t.token},
      {"$PROJECT", &t.project_id}, {"$CONV", &t.conversation_id},
      {"$FILE", &t.file_id},       {"$FOLDER", &t.folder_id}};
  for (const auto& [name, value] : vars) {
    for (std::size_t pos = text.find(name); pos != std::string::npos;
         pos = text.find(name, pos + value->size())) {
      text.replace(pos, name.size(), *value);
    }
  }
  return text;
}

}  // namespace polaris::fuzz
