#pragma once
// The HTTP/1.1 server: Beast over Asio, one coroutine per connection, an io_context run by
// one thread per core. Routes come from the Router; this file only speaks HTTP.
#include <functional>
#include <memory>
#include <string>

namespace polaris::http {

class Router;

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 3000;
  int threads = 2;
};

class Server {
 public:
  Server(ServerOptions options, const Router& router);
  ~Server();
  // Binds and listens; returns the bound port (useful with port 0). Throws on failure.
  unsigned short Listen();
  // Serves until SIGINT/SIGTERM (or Stop()), then stops accepting, lets in-flight requests
  // finish (up to a few seconds) and returns. on_signal runs once on the first signal.
  void Run(std::function<void()> on_signal = {});
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace polaris::http
