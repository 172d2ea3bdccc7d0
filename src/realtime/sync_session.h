#pragma once
// One Convex sync session (one WebSocket connection): the state machine of the sync protocol
// the `convex` npm client speaks, independent of the socket. The transport feeds client frames
// to Handle() one at a time and sends what NextFrame() returns until it returns nullopt.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "domain/user_slots.h"
#include "realtime/query_hub.h"

namespace polaris {
class StoreClient;
class TokenVerifier;
}  // namespace polaris

namespace polaris::realtime {

class CommitClock;
class MutationLog;

struct SyncDeps {
  QueryHub& hub;
  StoreClient& db;
  CommitClock& clock;
  MutationLog& mutations;
  const TokenVerifier& verifier;
  UserSlots& streams;
};

class SyncSession final : public QuerySubscriber, public std::enable_shared_from_this<SyncSession> {
 public:
  // executor: the connection's strand; every member runs there.
  SyncSession(boost::asio::any_io_executor executor, SyncDeps deps);
  ~SyncSession() override;

  // Handles one client frame. The transport awaits it before reading the next one, so
  // mutations from one connection run one at a time, in order.
  boost::asio::awaitable<void> Handle(std::string_view text);
  // The next text frame to send: queued answers, then a Transition with whatever changed, or
  // a Ping after 15 s of silence. nullopt once the session ends; then close_code() says how
  // to close (0: without a code, as after AuthError).
  boost::asio::awaitable<std::optional<std::string>> NextFrame();
  // The transport is gone: stop watching queries and end NextFrame().
  void PeerClosed();
  // The transport refused a client frame over `limit` bytes: close with 1009 naming the limit.
  void RefuseFrame(std::size_t limit);
  // Signed in as a user: the transport allows larger frames.
  bool signed_in() const { return !user_.empty(); }
  int close_code() const { return close_code_; }
  const std::string& close_reason() const { return close_reason_; }

  void OnQueryResult(std::int64_t query_id, QueryResultPtr result) override;

 private:
  struct Version {
    std::int64_t query_set = 0;
    std::int64_t identity = 0;
    std::uint64_t ts = 0;
  };
  struct Query {
    QuerySpec spec;
    bool active = false;    // acknowledged in a Transition (or about to be)
    QueryResultPtr latest;  // newest result from the hub
    QueryResultPtr sent;    // last result sent to the client
    std::size_t args_bytes = 0;
  };
  struct Pending {
    bool removed = false;
  };
  struct Outgoing {
    std::string frame;  // empty: build a Transition here
  };
  // Checks a client-sent udfPath and (a query's) args against the limits; false once the
  // session closes.
  bool WithinLimits(const std::string& udf, const boost::json::object* args,
                    std::int64_t query_id = -1);
  bool WithinPendingBound();

  boost::asio::awaitable<void> OnConnect(const boost::json::object& msg);
  boost::asio::awaitable<void> OnModifyQuerySet(const boost::json::object& msg);
  boost::asio::awaitable<void> OnAuthenticate(const boost::json::object& msg);
  boost::asio::awaitable<void> OnMutation(const boost::json::object& msg);
  void OnAction(const boost::json::object& msg);
  // Subscribes (or re-subscribes) a query under the current user; returns its result.
  boost::asio::awaitable<QueryResultPtr> Watch(std::int64_t query_id, const QuerySpec& spec);
  // nullopt when the frame would pass the outgoing frame limit (the session then closes).
  std::optional<std::string> BuildTransition();
  void Send(std::string frame);
  void RequestTransition();
  void Fatal(std::string message);
  void RejectAuth(const std::string& error, std::int64_t base_version, bool update_attempted);
  void Close(int code, std::string reason);
  // A limit refused the client: counted, and closed with a reason "<limit>: <detail>".
  // drop_unsent: the client is not reading, so what is queued goes no further.
  void CloseForLimit(int code, std::string_view limit, const std::string& detail,
                     bool drop_unsent = false);
  void DropOutbox();
  void Wake();
  // Ends the session when the token it authenticated with expires (unless replaced before).
  void ArmExpiry(double valid_until_seconds);

  boost::asio::any_io_executor executor_;
  SyncDeps deps_;
  boost::asio::steady_timer signal_;
  boost::asio::steady_timer expiry_;
  std::uint64_t auth_generation_ = 0;
  std::string session_id_;
  std::string user_;
  std::optional<std::uint64_t> observed_ts_;  // from Connect, applied once signed in
  std::unique_ptr<UserSlots::Lease> stream_lease_;
  std::int64_t requested_query_set_ = 0;
  std::int64_t requested_identity_ = 0;
  Version sent_;
  std::map<std::int64_t, Query> queries_;
  std::map<std::int64_t, Pending> pending_;  // queries whose change the next Transition carries
  std::deque<Outgoing> outbox_;
  std::size_t outbox_bytes_ = 0;
  std::size_t args_bytes_ = 0;  // of every watched query's args together
  bool closing_ = false;
  int close_code_ = 1000;
  std::string close_reason_;
};

}  // namespace polaris::realtime
