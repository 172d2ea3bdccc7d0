#pragma once
// What the application's use cases work with: the store, the runs, the provider chain, the
// per-user budgets of AI spend, and the live tail. Wired once, in main.
namespace polaris {
class StoreClient;
class RateLimiter;
class LiveTail;
namespace runs {
class RunManager;
}
namespace providers {
class ProviderChain;
}
}  // namespace polaris

namespace polaris::app {

struct AppContext {
  StoreClient& db;
  runs::RunManager& runs;
  providers::ProviderChain& chain;
  RateLimiter& message_rate;  // messages that start a run, per user
  RateLimiter& ai_rate;       // suggestions and quick edits, per user
  LiveTail& tail;             // the text of replies being streamed, ahead of the store
};

}  // namespace polaris::app
