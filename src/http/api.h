#pragma once
// Route registration, one function per resource family (each in its own api_*.cpp).
namespace polaris::http {

class Router;
class StoreClient;

void RegisterHealthRoutes(Router& router);
void RegisterProjectRoutes(Router& router, StoreClient& db);
void RegisterFileRoutes(Router& router, StoreClient& db);
void RegisterConversationRoutes(Router& router, StoreClient& db);

}  // namespace polaris::http
