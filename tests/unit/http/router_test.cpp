// The router's error answers: a store that cannot take the request is a 503 with
// Retry-After, any other failure a 500; a server-verified user is not verified again.
#include "http/router.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <ctime>

#include "auth/jwt.h"
#include "store/store.h"

namespace polaris::http {
namespace {
namespace asio = boost::asio;

class RouterErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    auto v = TokenVerifier::Create(AuthConfig{"router-test-secret", "", {}, {}});
    ASSERT_TRUE(v.ok());
    verifier_ = std::move(v.value());
    router_ = std::make_unique<Router>(*verifier_);
  }
  Response Dispatch(Request req) {
    asio::io_context ioc;
    auto future = asio::co_spawn(
        ioc,
        [this, req = std::move(req)]() mutable -> asio::awaitable<Response> {
          co_return co_await router_->Dispatch(req);
        },
        asio::use_future);
    ioc.run();
    return future.get();
  }
  static Request Get(std::string target) {
    Request r;
    r.method = "GET";
    r.target = std::move(target);
    return r;
  }
  std::unique_ptr<TokenVerifier> verifier_;
  std::unique_ptr<Router> router_;
};

std::string HeaderOf(const Response& res, const std::string& name) {
  for (const auto& [k, v] : res.headers) {
    if (k == name) return v;
  }
  return {};
}

TEST_F(RouterErrors, AnUnavailableStoreIsA503WithRetryAfter) {
  router_->Add(
      "GET", "/full",
      [](Request&) -> asio::awaitable<Response> {
        throw StoreError("database or disk is full", /*unavailable=*/true);
        co_return Response{};
      },
      /*auth=*/false);
  auto res = Dispatch(Get("/full"));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(HeaderOf(res, "Retry-After"), "1");
  EXPECT_NE(res.body.find("database is unavailable"), std::string::npos) << res.body;
}

TEST_F(RouterErrors, AnyOtherStoreFailureIsA500) {
  router_->Add(
      "GET", "/broken",
      [](Request&) -> asio::awaitable<Response> {
        throw StoreError("constraint failed", /*unavailable=*/false);
        co_return Response{};
      },
      /*auth=*/false);
  auto res = Dispatch(Get("/broken"));
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(HeaderOf(res, "Retry-After"), "");
}

// Authentication is one step, the server's, on the headers: Dispatch trusts the user it
// found and answers its refusal, and never checks a token itself (not even a valid one).
TEST_F(RouterErrors, OnlyTheServersAuthenticationStepCounts) {
  router_->Add("GET", "/me", [](Request& r) -> asio::awaitable<Response> {
    Response res;
    res.body = r.user;
    co_return res;
  });
  Request pre = Get("/me");
  pre.user = "alice";  // filled in by the server from the headers it checked
  EXPECT_EQ(Dispatch(pre).body, "alice");
  EXPECT_EQ(Dispatch(Get("/me")).status, 401);
  Request refused = Get("/me");
  refused.auth_refusal = "Token expired";
  auto answer = Dispatch(refused);
  EXPECT_EQ(answer.status, 401);
  EXPECT_NE(answer.body.find("Token expired"), std::string::npos) << answer.body;
  const std::string token = IssueHs256Token("router-test-secret", "bob", std::time(nullptr), 60);
  Request unchecked = Get("/me");
  unchecked.authorization = "Bearer " + token;
  EXPECT_EQ(Dispatch(unchecked).status, 401) << "a header the server did not check";
  auto bob = router_->AuthenticatedUser("Bearer " + token);
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(bob->sub, "bob");
}

// The web page answers GET/HEAD outside /api/ that no route takes; /api/ keeps its JSON 404s
// and other methods their 404/405.
TEST_F(RouterErrors, TheFallbackServesOnlyUnroutedPageRequests) {
  router_->Add(
      "GET", "/healthz", [](Request&) -> asio::awaitable<Response> { co_return Response{}; },
      false);
  router_->SetFallback([](Request&) -> asio::awaitable<Response> {
    Response r;
    r.body = "page";
    co_return r;
  });
  EXPECT_EQ(Dispatch(Get("/projects/x")).body, "page");
  EXPECT_EQ(Dispatch(Get("/")).body, "page");
  Request head = Get("/");
  head.method = "HEAD";
  EXPECT_EQ(Dispatch(head).body, "page");
  EXPECT_NE(Dispatch(Get("/healthz")).body, "page");
  EXPECT_EQ(Dispatch(Get("/api/nothing")).status, 404);
  Request post = Get("/projects/x");
  post.method = "POST";
  EXPECT_EQ(Dispatch(post).status, 404);
}

TEST_F(RouterErrors, ARouteMayHaveItsOwnBodyLimit) {
  auto ok = [](Request&) -> asio::awaitable<Response> { co_return Response{}; };
  router_->Add("POST", "/api/projects/:id/files/bulk", ok, true, 16u << 20);
  router_->Add("POST", "/api/projects", ok);
  EXPECT_EQ(router_->BodyLimit("POST", "/api/projects/p/files/bulk", 1024), 16u << 20);
  EXPECT_EQ(router_->BodyLimit("POST", "/api/projects", 1024), 1024u);
  EXPECT_EQ(router_->BodyLimit("GET", "/api/projects/p/files/bulk", 1024), 1024u);
}

}  // namespace
}  // namespace polaris::http
