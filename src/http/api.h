#pragma once
// Route registration, one function per resource family (each in its own api_*.cpp).
#include <string>

namespace polaris {
class StoreClient;
class Metrics;
class RateLimiter;
class LiveTail;
class UserSlots;
namespace runs {
class RunManager;
}
namespace providers {
class ProviderChain;
}
namespace realtime {
class CommitClock;
class ConversationEvents;
}  // namespace realtime
}  // namespace polaris

namespace polaris::http {

class Router;

// What the message and AI routes need besides the store.
struct AppContext {
  StoreClient& db;
  runs::RunManager& runs;
  providers::ProviderChain& chain;
  RateLimiter& message_rate;  // POST /api/messages per user
  RateLimiter& ai_rate;       // suggestion and quick edit per user
  LiveTail& tail;             // the text of replies being streamed, ahead of the store
};

void RegisterHealthRoutes(Router& router);
void RegisterProjectRoutes(Router& router, StoreClient& db);
void RegisterFileRoutes(Router& router, StoreClient& db);
// POST/GET /api/projects/:id/files/bulk (zip import and download); its own body limit.
void RegisterFileBulkRoutes(Router& router, StoreClient& db);
void RegisterConversationRoutes(Router& router, StoreClient& db);
void RegisterMessageRoutes(Router& router, AppContext& app);
void RegisterAiRoutes(Router& router, AppContext& app);
// token: POLARIS_METRICS_TOKEN; empty means loopback peers only.
void RegisterMetricsRoutes(Router& router, Metrics& metrics, std::string token);
void RegisterConvexRoutes(Router& router, StoreClient& db, realtime::CommitClock& clock);
void RegisterEventRoutes(Router& router, StoreClient& db, realtime::ConversationEvents& events,
                         UserSlots& streams);

}  // namespace polaris::http
