// The mock provider's HTTP side: the chat-completions routes, the /_mock control routes and
// the pacing of streamed answers. What to answer is decided in script.cpp.
#include "mockllm/mock_llm.h"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>

#include "auth/jwt.h"
#include "http/json_util.h"
#include "http/router.h"
#include "http/server.h"
#include "mockllm/script.h"

namespace polaris::mockllm {
namespace {
namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using http::BodyWriter;
using http::Request;
using http::Response;
using namespace std::chrono_literals;

// Shared by every connection; the server runs several threads, hence the mutex.
struct MockState {
  std::mutex mu;
  ScriptQueue queue;
  json::array requests;  // {"body", "authorization"} in arrival order
  std::int64_t completed = 0;
  std::int64_t disconnects = 0;
  std::atomic<std::uint64_t> next_id{1};

  void Reset() {
    std::lock_guard lock(mu);
    queue.Clear();
    requests.clear();
    completed = disconnects = 0;
  }
  void CountCompleted() {
    std::lock_guard lock(mu);
    ++completed;
  }
  void CountDisconnect() {
    std::lock_guard lock(mu);
    ++disconnects;
  }
};

// Sleeps ms milliseconds in slices, returning early once the server is stopping.
awaitable<void> Sleep(int ms, const BodyWriter* writer = nullptr) {
  auto ex = co_await asio::this_coro::executor;  // named: see "Coroutine rule"
  asio::steady_timer timer(ex);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline && !(writer && writer->Stopping())) {
    timer.expires_at(std::min(deadline, std::chrono::steady_clock::now() + 100ms));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// Writes a planned stream; a failed write means the client left, which is counted.
awaitable<void> WritePlan(std::shared_ptr<MockState> state, StreamPlan plan, BodyWriter& w) {
  if (!co_await w.Write(": MOCK PROCESSING\n\n")) {
    state->CountDisconnect();
    co_return;
  }
  for (const auto& event : plan.events) {
    if (event.delay_ms > 0) co_await Sleep(event.delay_ms, &w);
    if (!co_await w.Write(event.data)) {
      state->CountDisconnect();
      co_return;
    }
  }
  // A stall writes nothing (a write is the only way to notice a vanished client).
  if (plan.hold_ms > 0) co_await Sleep(plan.hold_ms, &w);
  if (plan.end == StreamEnd::kAbort) {
    w.Abort();
    co_return;
  }
  if (plan.ends_with_done) state->CountCompleted();
}

Response SseResponse(std::shared_ptr<MockState> state, StreamPlan plan) {
  Response res;
  res.content_type = "text/event-stream";
  res.stream = [state = std::move(state), plan = std::move(plan)](BodyWriter& w) {
    return WritePlan(state, plan, w);  // copies into the coroutine's frame
  };
  return res;
}

// Answers that are not a normal stream: HTTP errors, a dropped connection, an empty 200.
std::optional<Response> FaultResponse(const Step& step) {
  Response res;
  switch (step.fault) {
    case Fault::kDrop:
      res.abort_connection = true;
      return res;
    case Fault::kEmpty200:
      res.body.clear();
      return res;
    case Fault::kHttp429:
      res = http::Json(429, FaultBody(step));
      res.headers.emplace_back("Retry-After", std::to_string(step.retry_after));
      return res;
    default:
      break;
  }
  if (int status = FaultStatus(step.fault)) return http::Json(status, FaultBody(step));
  return std::nullopt;
}

// Records the request and takes the step that answers it (none for a body that is not a
// JSON object: such a request is refused without using up the script).
std::optional<Step> NextStep(MockState& state, const json::value& body,
                             const std::string& authorization) {
  std::lock_guard lock(state.mu);
  state.requests.push_back(json::object{{"body", body}, {"authorization", authorization}});
  if (!body.is_object()) return std::nullopt;
  if (auto step = state.queue.Next()) return step;
  return DefaultStep(body.as_object());
}

bool IncludeUsage(const json::object& request) {
  auto it = request.find("stream_options");
  if (it == request.end() || !it->value().is_object()) return false;
  auto usage = it->value().as_object().find("include_usage");
  return usage != it->value().as_object().end() && usage->value() == true;
}

ChunkContext ContextFor(MockState& state, const json::object& request) {
  ChunkContext ctx;
  ctx.id = "chatcmpl-mock-" + std::to_string(state.next_id++);
  auto model = request.find("model");
  ctx.model = model != request.end() && model->value().is_string()
                  ? std::string(model->value().get_string())
                  : "mock-model";
  ctx.created = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return ctx;
}

awaitable<Response> ChatCompletions(std::shared_ptr<MockState> state, Request& req) {
  boost::system::error_code ec;
  json::value body = json::parse(req.body, ec);
  if (ec) body = json::string(req.body);  // recorded as sent, then refused
  std::optional<Step> next = NextStep(*state, body, req.authorization);
  if (!next) {
    co_return http::Json(400, {{"error", {{"code", 400}, {"message", "Invalid JSON body"}}}});
  }
  Step& step = *next;
  const json::object& request = body.as_object();
  if (step.first_byte_delay_ms > 0) co_await Sleep(step.first_byte_delay_ms);
  if (auto fault = FaultResponse(step)) co_return std::move(*fault);

  ChunkContext ctx = ContextFor(*state, request);
  AssignCallIds(step, ctx.id);
  const Usage usage = UsageFor(step, request);
  auto stream = request.find("stream");
  const bool streamed = stream != request.end() && stream->value() == true;
  if (streamed || step.kind == StepKind::kFault) {  // streamed faults always stream
    co_return SseResponse(state, PlanStream(step, ctx, IncludeUsage(request), usage));
  }
  co_return http::Json(200, CompletionBody(step, ctx, usage));
}

awaitable<Response> PostScript(std::shared_ptr<MockState> state, Request& req) {
  auto body = http::ParseObjectBody(req.body);
  if (!body) co_return http::ErrorResponse(body.error());
  auto steps = ParseSteps(*body);
  if (!steps) co_return http::ErrorResponse(steps.error());
  auto reset = body->find("reset");
  if (reset != body->end() && reset->value() == true) state->Reset();
  std::lock_guard lock(state->mu);
  state->queue.Append(std::move(*steps));
  co_return http::Json(200, {{"ok", true}, {"queued", state->queue.size()}});
}

awaitable<Response> GetRequests(std::shared_ptr<MockState> state, Request&) {
  std::lock_guard lock(state->mu);
  co_return http::Json(200, state->requests);
}

awaitable<Response> GetStats(std::shared_ptr<MockState> state, Request&) {
  std::lock_guard lock(state->mu);
  co_return http::Json(200, {{"requests", state->requests.size()},
                             {"completed", state->completed},
                             {"disconnects", state->disconnects},
                             {"queued", state->queue.size()}});
}

awaitable<Response> PostReset(std::shared_ptr<MockState> state, Request&) {
  state->Reset();
  co_return http::Json(200, {{"ok", true}});
}

void AddRoutes(http::Router& router, const std::shared_ptr<MockState>& state) {
  auto bind = [&state](awaitable<Response> (*fn)(std::shared_ptr<MockState>, Request&)) {
    return [state, fn](Request& req) { return fn(state, req); };
  };
  for (const char* path :
       {"/v1/chat/completions", "/chat/completions", "/api/v1/chat/completions"}) {
    router.Add("POST", path, bind(ChatCompletions), /*auth=*/false);
  }
  router.Add("POST", "/_mock/script", bind(PostScript), /*auth=*/false);
  router.Add("GET", "/_mock/requests", bind(GetRequests), /*auth=*/false);
  router.Add("GET", "/_mock/stats", bind(GetStats), /*auth=*/false);
  router.Add("POST", "/_mock/reset", bind(PostReset), /*auth=*/false);
}

}  // namespace

int RunMockLlm(const MockOptions& options) {
  // The router insists on a verifier; no mock route asks for a token.
  auto verifier = TokenVerifier::Create(AuthConfig{"unused-mock-secret", "", {}, {}});
  if (!verifier) {
    std::cerr << "polaris: " << verifier.error().message << "\n";
    return 1;
  }
  auto state = std::make_shared<MockState>();
  http::Router router(**verifier);
  AddRoutes(router, state);
  http::ServerOptions server_options;
  server_options.host = options.host;
  server_options.port = options.port;
  server_options.anonymous_body_limit = 1 << 20;  // transcripts: the mock has no tokens
  http::Server server(server_options, router);
  unsigned short port = 0;
  try {
    port = server.Listen();
  } catch (const std::exception& e) {
    std::cerr << "polaris: cannot listen on " << options.host << ":" << options.port << ": "
              << e.what() << "\n";
    return 1;
  }
  std::printf("mock-llm listening on http://%s:%u\n", options.host.c_str(), port);
  std::fflush(stdout);
  server.Run();
  return 0;
}

}  // namespace polaris::mockllm
