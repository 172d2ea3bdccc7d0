// GET /healthz (liveness) and GET /metrics (Prometheus), both without auth.
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

void RegisterMetricsRoutes(Router& router, Metrics& metrics) {
  router.Add(
      "GET", "/metrics",
      [&metrics](Request&) -> boost::asio::awaitable<Response> {
        Response res;
        res.body = metrics.Render();
        res.content_type = "text/plain; version=0.0.4";
        co_return res;
      },
      /*auth=*/false);
}

}  // namespace polaris::http
