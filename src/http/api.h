#pragma once
// Route registration, one function per resource family (each in its own api_*.cpp).
#include <string>

namespace polaris {
namespace app {
struct AppContext;
}
class StoreClient;
class Metrics;
class UserSlots;
namespace realtime {
class CommitClock;
class ConversationEvents;
}  // namespace realtime
}  // namespace polaris

namespace polaris::http {

class Router;

void RegisterHealthRoutes(Router& router);
void RegisterProjectRoutes(Router& router, StoreClient& db);
void RegisterFileRoutes(Router& router, StoreClient& db);
// POST/GET /api/projects/:id/files/bulk (zip import and download); its own body limit.
void RegisterFileBulkRoutes(Router& router, StoreClient& db);
void RegisterConversationRoutes(Router& router, StoreClient& db);
void RegisterMessageRoutes(Router& router, app::AppContext& app);
void RegisterAiRoutes(Router& router, app::AppContext& app);
// token: POLARIS_METRICS_TOKEN; empty means loopback peers only.
void RegisterMetricsRoutes(Router& router, Metrics& metrics, std::string token);
void RegisterConvexRoutes(Router& router, StoreClient& db, realtime::CommitClock& clock);
void RegisterEventRoutes(Router& router, StoreClient& db, realtime::ConversationEvents& events,
                         UserSlots& streams);

}  // namespace polaris::http
