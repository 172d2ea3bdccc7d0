#pragma once
// The HTTP/1.1 server: Beast over Asio, one coroutine per connection, an io_context run by
// one thread per core. Routes come from the Router; this file only speaks HTTP.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace boost::asio {
class io_context;
}

namespace polaris {
class Metrics;
}

namespace polaris::realtime {
struct SyncDeps;
}

namespace polaris::http {

class Router;

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  int threads = 2;
  Metrics* metrics = nullptr;  // optional: the open-connections gauge
  // Overrides Limits::max_anonymous_body_bytes (the mock provider takes large transcripts
  // and has no tokens).
  std::optional<std::size_t> anonymous_body_limit;
};

class Server {
 public:
  Server(ServerOptions options, const Router& router);
  ~Server();
  // Binds and listens; returns the bound port (useful with port 0). Throws on failure.
  unsigned short Listen();
  // Serves until SIGINT/SIGTERM, then stops accepting, runs on_stop once, and keeps the loop
  // going until in-flight requests are done and idle() holds (at most ~8 s). on_stop gets a
  // `wake` to call (from any thread) whenever idle() may have become true: nothing polls.
  using StopHook = std::function<void(std::function<void()> wake)>;
  void Run(StopHook on_stop = {}, std::function<bool()> idle = {});
  // Serves the Convex sync WebSocket (/api/<version>/sync) with these dependencies.
  void EnableSync(const realtime::SyncDeps& deps);
  // The event loop, for the other components that run coroutines on it (runs, titles).
  boost::asio::io_context& context();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace polaris::http
