// Convex client frames through a real SyncSession, as http/websocket.cpp drives it: each
// frame is awaited in Handle() before the next is read, while a writer loop takes whatever
// NextFrame() gives; the socket then closes (PeerClosed) and the writer loop must end.
// The session has the real QueryHub, MutationLog, CommitClock and token verifier over a real
// SQLite store, so queries run, mutations commit and their topics come back as Transitions.
//
// Input: frames separated by '\n' (at most 32). $TOKEN, $PROJECT, $CONV, $FILE, $FOLDER are
// replaced by a valid token and the ids of a signed-in user's documents. Frames over the
// anonymous / signed-in size limit are refused the way the transport refuses them.
// Checked besides sanitizers: every frame the session sends is one JSON object with a
// "type"; Handle() and NextFrame() finish (a hang or a writer loop that does not end after
// PeerClosed is a finding).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "app_fixture.h"
#include "domain/limits.h"
#include "realtime/sync_session.h"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr int kMaxFrames = 32;
constexpr std::size_t kAnonymousFrameLimit = 64 << 10;  // see http/websocket.cpp

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz: %s\n", what.c_str());
  std::abort();
}

void CheckFrame(const std::string& frame) {
  boost::system::error_code ec;
  auto v = boost::json::parse(frame, ec);
  if (ec || !v.is_object() || !v.as_object().contains("type")) {
    Fail("the session sent a frame that is not a typed JSON object: " + frame.substr(0, 500));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& app = polaris::fuzz::App::Get();
  const auto& tenant = app.CurrentTenant(200);
  const std::string input = polaris::fuzz::App::Substitute(
      std::string(reinterpret_cast<const char*>(data), size), tenant);

  auto strand = asio::make_strand(app.ioc());
  auto session = std::make_shared<polaris::realtime::SyncSession>(strand, app.sync());

  // The writer loop (websocket.cpp): sends frames until NextFrame() says the session ended.
  struct Writer {
    bool done = false;
    std::size_t frames = 0;
  };
  auto writer = std::make_shared<Writer>();
  asio::co_spawn(
      strand,
      [session, writer]() -> asio::awaitable<void> {
        while (auto frame = co_await session->NextFrame()) {
          CheckFrame(*frame);
          ++writer->frames;
        }
      },
      [writer](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
        writer->done = true;
      });

  std::string_view rest = input;
  const auto frame_limit = static_cast<std::size_t>(polaris::CurrentLimits().ws_max_frame_bytes);
  for (int i = 0; i < kMaxFrames && !rest.empty() && !writer->done; ++i) {
    const std::size_t nl = rest.find('\n');
    const std::string frame(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    const std::size_t limit = session->signed_in() ? frame_limit : kAnonymousFrameLimit;
    if (frame.size() > limit) {
      session->RefuseFrame(limit);
      break;
    }
    bool handled = false;
    asio::co_spawn(
        strand, [session, frame]() -> asio::awaitable<void> { co_await session->Handle(frame); },
        [&handled](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);  // Handle must not throw: a finding
          handled = true;
        });
    if (!app.RunUntil([&] { return handled; }, 10s)) Fail("Handle() did not finish in 10 s");
    app.Poll();
  }
  // Let query results and Transitions arrive, then the client goes away.
  app.RunUntil([] { return false; }, 2ms);
  asio::post(strand, [session] { session->PeerClosed(); });
  if (!app.RunUntil([&] { return writer->done; }, 10s)) {
    Fail("NextFrame() did not end within 10 s of PeerClosed()");
  }
  return 0;
}
