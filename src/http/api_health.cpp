// GET /healthz (liveness, open to all) and GET /metrics (Prometheus): with a metrics token
// configured it needs that bearer token; without one only loopback peers may read it.
#include <boost/asio/use_awaitable.hpp>

#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"
#include "metrics/metrics.h"

namespace polaris::http {

void RegisterHealthRoutes(Router& router) {
  router.Add(
      "GET", "/healthz",
      [](Request&) -> boost::asio::awaitable<Response> {
        co_return Json(200, {{"ok", true}});
      },
      /*auth=*/false);
}

namespace {
// Constant time in the token's length: the comparison must not leak a matching prefix.
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}
}  // namespace

void RegisterMetricsRoutes(Router& router, Metrics& metrics, std::string token) {
  router.Add(
      "GET", "/metrics",
      [&metrics, token](Request& req) -> boost::asio::awaitable<Response> {
        if (!token.empty()) {
          constexpr std::string_view kBearer = "Bearer ";
          std::string_view auth = req.authorization;
          if (!auth.starts_with(kBearer) || !SameSecret(auth.substr(kBearer.size()), token)) {
            co_return ErrorResponse(401, "Metrics need the metrics token (POLARIS_METRICS_TOKEN)");
          }
        } else if (!req.peer_loopback) {
          co_return ErrorResponse(
              403,
              "Metrics are served to loopback clients only unless POLARIS_METRICS_TOKEN is set");
        }
        Response res;
        res.body = metrics.Render();
        res.content_type = "text/plain; version=0.0.4";
        co_return res;
      },
      /*auth=*/false);
}

}  // namespace polaris::http
