// GET /healthz: liveness without auth.
#include <boost/asio/use_awaitable.hpp>

#include "http/api.h"
#include "http/json_util.h"
#include "http/router.h"

namespace polaris::http {

void RegisterHealthRoutes(Router& router) {
  router.Add(
      "GET", "/healthz",
      [](Request&) -> boost::asio::awaitable<Response> {
        co_return Json(200, {{"ok", true}});
      },
      /*auth=*/false);
}

}  // namespace polaris::http
