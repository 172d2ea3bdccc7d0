#pragma once
// The server's pieces wired as src/main.cpp wires them, for the fuzz targets that drive routes
// and sync sessions without sockets: a real SqliteStore (a temp file under /dev/shm when there
// is one), the router with every API route, the query hub, the run manager (with no provider,
// so runs fail at once). The io_context runs on the fuzzing thread, in slices.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "auth/jwt.h"
#include "domain/result.h"
#include "http/message.h"

namespace polaris::realtime {
struct SyncDeps;
}

namespace polaris::fuzz {

// A signed-in user with one project, conversation and file of their own.
struct Tenant {
  std::string user;
  std::string token;  // an HS256 token for `user`, valid for a day
  std::string project_id;
  std::string conversation_id;
  std::string file_id;
  std::string folder_id;
};

class App {
 public:
  // Created on first use, never destroyed (the store threads outlive any one input).
  static App& Get();

  boost::asio::io_context& ioc();
  // Runs the loop until done() holds; false if it still does not after `limit`.
  bool RunUntil(const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(10));
  // Lets queued handlers (store completions, runs) run for a moment.
  void Poll();
  // Dispatches through the real Router (with its real route handlers) and returns the answer.
  // Aborts if no answer comes within 10 s: a hang is a finding.
  http::Response Dispatch(http::Request req);
  // The router's pre-body checks (the token first, then the route), as the server calls them before
  // reading a body.
  Result<VerifiedToken> AuthenticatedUser(std::string_view authorization) const;
  bool NeedsAuth(std::string_view method, std::string_view target) const;
  std::size_t BodyLimit(std::string_view method, std::string_view target,
                        std::size_t general) const;
  // A user (with a project, conversation, file and folder) that changes every `every` calls, so
  // quotas filled by earlier inputs do not hide the success paths from later ones.
  const Tenant& CurrentTenant(int every = 500);
  // Replaces $USER, $TOKEN, $PROJECT, $CONV, $FILE, $FOLDER in text with the tenant's values.
  static std::string Substitute(std::string text, const Tenant& t);
  // What a SyncSession needs (hub, store, clock, mutation log, verifier, stream slots).
  const realtime::SyncDeps& sync() const;

  struct Impl;

 private:
  App();
  std::unique_ptr<Impl> impl_;
};

}  // namespace polaris::fuzz
