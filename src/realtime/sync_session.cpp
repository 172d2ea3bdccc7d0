#include "realtime/sync_session.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <ctime>

#include "auth/jwt.h"
#include "domain/clock.h"
#include "domain/hash.h"
#include "domain/limits.h"
#include "domain/log.h"
#include "domain/text.h"
#include "json/json_input.h"
#include "realtime/commit_clock.h"
#include "realtime/convex_encoding.h"
#include "realtime/function_call.h"
#include "realtime/mutation_log.h"
#include "store/store_client.h"

namespace polaris::realtime {
namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {
constexpr auto kPingAfter = 15s;
constexpr std::size_t kMaxOutbox = 1024;  // frames a client left unread: it is dropped
constexpr std::size_t kMaxUdfPath = 256;
// How long a stored mutation answer is given again (a reconnect is a matter of seconds).
constexpr Millis kStoredAnswerTtlMs = 3600 * 1000;
// The store keeps at most this many answers per user (Repo::MutationKey), none over
// kMaxStoredAnswer bytes, none for a session id over kMaxStoredSession bytes (a Convex
// session id is a UUID): one user can make it hold at most 256 x 64 KiB.
constexpr int kStoredAnswerSlots = 256;
constexpr std::size_t kMaxStoredAnswer = 64 << 10;
constexpr std::size_t kMaxStoredSession = 128;
// A session's queries together may keep this many times one query's args; an anonymous
// session (which can only see "Unauthorized" until it signs in) far less.
constexpr std::int64_t kSessionArgsFactor = 16;
constexpr std::int64_t kAnonymousArgsBytes = 16 << 10;

// Mutation answers are kept per (user, session): a length prefix keeps the two apart, so no
// choice of names makes two pairs share a key.
std::string LogKey(const std::string& user, const std::string& session) {
  return std::to_string(user.size()) + ':' + user + session;
}

// Where the store keeps the answer to this session's request: FNV-1a, stable across processes
// and builds (every process must pick the same slot).
Repo::MutationKey StoredAnswerKey(const std::string& user, const std::string& session,
                                  std::int64_t request_id) {
  const std::uint64_t h = Fnv1a().Add(session).Add(":").Add(std::to_string(request_id)).value();
  return Repo::MutationKey{user, static_cast<int>(h % kStoredAnswerSlots), session, request_id};
}

const json::value* Field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}
std::optional<std::int64_t> IntField(const json::object& o, std::string_view key) {
  return json_input::IntegerMember(o, key);
}
std::optional<std::string> StringField(const json::object& o, std::string_view key) {
  return json_input::StringMember(o, key);
}
std::optional<json::object> ArgsOf(const json::object& msg) {
  return ArgsFromWire(Field(msg, "args"));
}
std::string Quote(std::string_view s) {
  return json::serialize(json::string(s));
}
std::string VersionJson(std::int64_t qs, std::int64_t identity, std::uint64_t ts) {
  return "{\"querySet\":" + std::to_string(qs) + ",\"identity\":" + std::to_string(identity) +
         ",\"ts\":\"" + EncodeTs(ts) + "\"}";
}
}  // namespace

SyncSession::SyncSession(asio::any_io_executor executor, SyncDeps deps)
    : executor_(executor), deps_(deps), signal_(executor), expiry_(executor) {
  // Until Connect names the session, answers are kept under an id no other socket has.
  static std::atomic<std::uint64_t> next{0};
  session_id_ = "unnamed-" + std::to_string(++next);
}

SyncSession::~SyncSession() = default;

void SyncSession::OnQueryResult(std::int64_t query_id, QueryResultPtr result) {
  // On the hub's strand: hop to ours.
  asio::post(executor_, [weak = weak_from_this(), query_id, result = std::move(result)] {
    auto self = weak.lock();
    if (!self || self->closing_) return;
    auto it = self->queries_.find(query_id);
    if (it == self->queries_.end()) return;
    it->second.latest = result;
    if (it->second.active) {
      self->pending_[query_id];
      self->Wake();
    }
  });
}

asio::awaitable<void> SyncSession::Handle(std::string_view text) {
  if (closing_) co_return;
  auto parsed = json_input::ParseObject(text);
  if (!parsed) {
    Fatal("Malformed message: expected one JSON object per text frame");
    co_return;
  }
  const auto& msg = *parsed;
  auto type = StringField(msg, "type");
  if (!type) {
    Fatal("Malformed message: missing \"type\"");
  } else if (*type == "Connect") {
    co_await OnConnect(msg);
  } else if (*type == "ModifyQuerySet") {
    co_await OnModifyQuerySet(msg);
  } else if (*type == "Authenticate") {
    co_await OnAuthenticate(msg);
  } else if (*type == "Mutation") {
    co_await OnMutation(msg);
  } else if (*type == "Action") {
    OnAction(msg);
  } else if (*type == "Event") {
    // Client telemetry: nothing to do.
  } else {
    Fatal("Unknown message type \"" + ClipForEcho(*type) + "\"");
  }
}

asio::awaitable<void> SyncSession::OnConnect(const json::object& msg) {
  auto session = StringField(msg, "sessionId");
  if (!session || session->empty() || session->size() > 200) {
    Fatal("Malformed Connect: sessionId must be a string");
    co_return;
  }
  session_id_ = *session;
  // Applied once the session signs in: an anonymous client changes no global state.
  if (auto observed = StringField(msg, "maxObservedTimestamp")) {
    if (auto ts = DecodeTs(*observed)) observed_ts_ = *ts;
  }
  co_return;
}

asio::awaitable<QueryResultPtr> SyncSession::Watch(std::int64_t query_id, const QuerySpec& spec) {
  std::weak_ptr<QuerySubscriber> weak = shared_from_this();
  co_return co_await deps_.hub.Subscribe(weak, query_id, spec);
}

asio::awaitable<void> SyncSession::OnModifyQuerySet(const json::object& msg) {
  auto base = IntField(msg, "baseVersion");
  auto next = IntField(msg, "newVersion");
  const auto* mods = Field(msg, "modifications");
  if (!base || !next || !mods || !mods->is_array()) {
    Fatal("Malformed ModifyQuerySet");
    co_return;
  }
  if (*base != requested_query_set_ || *next <= *base) {
    Fatal("BaseVersionMismatch: ModifyQuerySet from " + std::to_string(*base) +
          " but the query set is at " + std::to_string(requested_query_set_));
    co_return;
  }
  // Both kinds of change reach pending_ only once the whole set is applied: a Transition
  // built while an Add waits for its first result must not carry part of this change under
  // the previous query-set version.
  std::vector<std::int64_t> added, removed;
  for (const auto& m : mods->as_array()) {
    if (!m.is_object()) {
      Fatal("Malformed ModifyQuerySet modification");
      co_return;
    }
    const auto& mod = m.as_object();
    auto kind = StringField(mod, "type");
    auto id = IntField(mod, "queryId");
    if (!kind || !id) {
      Fatal("Malformed ModifyQuerySet modification");
      co_return;
    }
    if (*kind == "Remove") {
      // Only a query the session has tells the client it is gone: ids it never added leave
      // nothing behind (a client that does not read must not grow pending_ with them).
      if (auto q = queries_.find(*id); q != queries_.end()) {
        args_bytes_ -= q->second.args_bytes;
        queries_.erase(q);
        deps_.hub.Unsubscribe(this, *id);
        removed.push_back(*id);
      }
      continue;
    }
    if (*kind != "Add") {
      Fatal("Unknown query modification \"" + ClipForEcho(*kind) + "\"");
      co_return;
    }
    auto udf = StringField(mod, "udfPath");
    auto args = ArgsOf(mod);
    if (!udf) {
      Fatal("Malformed ModifyQuerySet: udfPath must be a string");
      co_return;
    }
    if (!WithinLimits(*udf, args ? &*args : nullptr, *id)) co_return;
    const int max_queries = CurrentLimits().ws_max_queries;
    if (!queries_.count(*id) && queries_.size() >= static_cast<std::size_t>(max_queries)) {
      CloseForLimit(1008, "ws_queries",
                    "at most " + std::to_string(max_queries) + " queries per session");
      co_return;
    }
    if (auto old = queries_.find(*id); old != queries_.end()) {
      args_bytes_ -= old->second.args_bytes;
      deps_.hub.Unsubscribe(this, *id);
    }
    auto& q = queries_[*id];
    q = Query{};
    q.args_bytes = args ? json::serialize(*args).size() : 0;
    args_bytes_ += q.args_bytes;
    q.spec = QuerySpec{CanonicalUdfPath(*udf), args ? std::move(*args) : json::object{}, user_};
    pending_.erase(*id);
    if (!args) {
      q.latest =
          MakeQueryFailure("ArgumentValidationError: args must be an array holding one object");
    } else {
      auto result = co_await Watch(*id, q.spec);
      // Anything pushed while we waited came from before this subscription (the hub answers
      // a subscription before it pushes to it), so the answer is the newest result.
      auto it = queries_.find(*id);
      if (it != queries_.end()) it->second.latest = std::move(result);
    }
    added.push_back(*id);
  }
  for (auto id : removed) {
    if (!queries_.count(id)) pending_[id].removed = true;  // unless added again meanwhile
  }
  for (auto id : added) {
    auto it = queries_.find(id);
    if (it == queries_.end()) continue;
    it->second.active = true;
    pending_[id];
  }
  if (!WithinPendingBound()) co_return;
  requested_query_set_ = *next;
  RequestTransition();
}

asio::awaitable<void> SyncSession::OnAuthenticate(const json::object& msg) {
  auto base = IntField(msg, "baseVersion");
  auto token_type = StringField(msg, "tokenType");
  if (!base || !token_type) {
    Fatal("Malformed Authenticate");
    co_return;
  }
  if (*base != requested_identity_) {
    Fatal("IdentityVersionMismatch: Authenticate from " + std::to_string(*base) +
          " but the identity is at " + std::to_string(requested_identity_));
    co_return;
  }
  std::string user;
  double valid_until = 0;
  if (*token_type == "User") {
    auto token = StringField(msg, "value");
    auto sub = token ? deps_.verifier.VerifyClaims(*token, std::time(nullptr))
                     : Result<VerifiedToken>(Error{ErrorCode::kUnauthorized, "Missing token", {}});
    if (!sub.ok()) {
      RejectAuth("Could not verify token: " + sub.error().message, *base, true);
      co_return;
    }
    user = sub->sub;
    valid_until = sub->valid_until;
  } else if (*token_type != "None") {
    RejectAuth("Unsupported token type \"" + *token_type + "\"", *base, true);
    co_return;
  }
  if (user != user_) {
    // Each signed-in socket is one of the user's streams (with the SSE ones).
    stream_lease_.reset();
    if (!user.empty()) {
      const int max_streams = CurrentLimits().max_streams_per_user;
      stream_lease_ = deps_.streams.TryAcquire(user, max_streams);
      if (!stream_lease_) {
        CloseForLimit(1008, "streams_per_user",
                      "at most " + std::to_string(max_streams) + " open streams per user");
        co_return;
      }
    }
    user_ = user;
    // Every watched query runs again as the new user.
    std::vector<std::int64_t> ids;
    for (auto& [id, q] : queries_) {
      q.spec.user = user_;
      q.active = false;
      q.latest = nullptr;
      ids.push_back(id);
    }
    for (auto id : ids) {
      auto it = queries_.find(id);
      if (it == queries_.end()) continue;
      QuerySpec spec = it->second.spec;
      auto result = co_await Watch(id, spec);
      it = queries_.find(id);
      if (it == queries_.end()) continue;
      it->second.latest = std::move(result);  // newer than anything pushed meanwhile
      it->second.active = true;
      pending_[id];
    }
  }
  if (!user_.empty() && observed_ts_) {
    deps_.clock.Observe(*observed_ts_);  // clamped by the clock to just ahead of real time
    observed_ts_.reset();
  }
  requested_identity_ = *base + 1;
  ArmExpiry(valid_until);
  RequestTransition();
}

void SyncSession::ArmExpiry(double valid_until_seconds) {
  const auto generation = ++auth_generation_;
  expiry_.cancel();
  if (user_.empty()) return;
  const double now = NowSeconds();
  // Waits at most a day at a time: far-future (or absurd) expiries must not overflow the clock.
  constexpr double kMaxWaitSeconds = 86400;
  const double wait = std::clamp(valid_until_seconds - now, 0.0, kMaxWaitSeconds);
  expiry_.expires_after(std::chrono::milliseconds(static_cast<std::int64_t>(wait * 1000.0)));
  expiry_.async_wait([weak = weak_from_this(), generation,
                      valid_until_seconds](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->closing_ || generation != self->auth_generation_) return;
    const double now = NowSeconds();
    if (now < valid_until_seconds) {
      self->ArmExpiry(valid_until_seconds);  // only a day went by: keep waiting
      return;
    }
    // The client refreshes its token before expiry; one that did not is told and dropped, so
    // an expired token never keeps receiving data. It reconnects and authenticates anew.
    self->RejectAuth("Token expired", self->requested_identity_ - 1, false);
  });
}

asio::awaitable<void> SyncSession::OnMutation(const json::object& msg) {
  auto request_id = IntField(msg, "requestId");
  auto udf = StringField(msg, "udfPath");
  auto args = ArgsOf(msg);
  if (!request_id || !udf) {
    Fatal("Malformed Mutation");
    co_return;
  }
  // A mutation's args are used once and dropped (the frame limit bounds them); only a
  // query's args stay for the life of its subscription.
  if (!WithinLimits(*udf, nullptr)) co_return;
  auto respond_failure = [&](const std::string& message) {
    return "{\"type\":\"MutationResponse\",\"requestId\":" + std::to_string(*request_id) +
           ",\"success\":false,\"result\":" + Quote(message) + ",\"ts\":null,\"logLines\":[]}";
  };
  // An anonymous session may call no function: its answer is always the same error, so it
  // is not kept (an anonymous client must not be able to make the server hold memory).
  if (user_.empty()) {
    const Function* known = FindFunction(*udf, FunctionKind::kMutation);
    Send(respond_failure(!known ? UnknownFunctionError(*udf)
                         : !args
                             ? "ArgumentValidationError: args must be an array holding one object"
                             : UncaughtError("Unauthorized")));
    co_return;
  }
  // A re-sent mutation (same session and request id) gets its first answer again. The user is
  // part of the key: a session id alone must not reveal another user's answers.
  const std::string log_key = LogKey(user_, session_id_);
  auto claim = deps_.mutations.Begin(log_key, *request_id);
  // Its first attempt still runs (a re-send racing it): wait until that one settles, at most
  // 30 s. The log wakes this session's timer (on its own executor) when it does.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto wait = std::make_shared<asio::steady_timer>(executor_);
  while (claim.state == MutationLog::State::kRunning &&
         std::chrono::steady_clock::now() < give_up) {
    wait->expires_at(give_up);
    std::weak_ptr<asio::steady_timer> weak = wait;
    const bool registered = deps_.mutations.OnSettled(log_key, *request_id, [weak, ex = executor_] {
      asio::post(ex, [weak] {
        if (auto t = weak.lock()) t->cancel();
      });
    });
    if (registered) co_await wait->async_wait(asio::as_tuple(asio::use_awaitable));
    claim = deps_.mutations.Begin(log_key, *request_id);
  }
  if (claim.state == MutationLog::State::kDone) {
    co_await deps_.hub.Settle(this);
    Send(std::move(claim.response));
    RequestTransition();
    co_return;
  }
  if (claim.state == MutationLog::State::kRunning) {  // still running after 30 s
    Send(respond_failure(
        "InternalServerError: the first attempt of this mutation is still running"));
    co_return;
  }
  const Function* fn = FindFunction(*udf, FunctionKind::kMutation);
  const Repo::MutationKey stored_key = StoredAnswerKey(user_, session_id_, *request_id);
  CallOutcome outcome;
  if (!fn) {
    outcome.error_message = UnknownFunctionError(*udf);
  } else if (!args) {
    outcome.error_message = "ArgumentValidationError: args must be an array holding one object";
  } else {
    // Not answered here since this process started; maybe by another process sharing the
    // database, or by this one before a restart.
    std::optional<std::string> stored;
    bool store_ok = true;
    if (stored_key.session.size() <= kMaxStoredSession) {
      try {
        const Millis not_before = NowMillis() - kStoredAnswerTtlMs;
        Store::ReadJob lookup = [&](Repo& repo) {
          stored = repo.GetMutationAnswer(stored_key, not_before);
        };
        co_await deps_.db.Read(std::move(lookup));
      } catch (const std::exception& e) {
        LogWarn("stored mutation answers unreadable: the mutation is refused",
                {{"user", user_}, {"error", e.what()}});
        store_ok = false;
      }
    }
    if (stored) {
      deps_.mutations.Finish(log_key, *request_id, *stored);
      co_await deps_.hub.Settle(this);
      Send(std::move(*stored));
      RequestTransition();
      co_return;
    }
    if (!store_ok) {
      // Whether it ran cannot be known now: it is not run (the client may send it again).
      deps_.mutations.Abandon(log_key, *request_id);
      Send(respond_failure("ServiceUnavailable: the database is not available; try again"));
      co_return;
    }
    outcome = co_await CallFunction(deps_.db, *fn, user_, std::move(*args));
  }
  std::string response;
  if (outcome.ok) {
    // Read-your-writes: this connection's queries catch up before the answer goes out, and
    // the Transition after it carries a ts at least the commit's.
    const std::uint64_t ts = deps_.clock.Latest();
    co_await deps_.hub.Settle(this);
    response = "{\"type\":\"MutationResponse\",\"requestId\":" + std::to_string(*request_id) +
               ",\"success\":true,\"result\":" + outcome.value_json + ",\"ts\":\"" + EncodeTs(ts) +
               "\",\"logLines\":[]}";
    // Kept before the client hears it: a re-sent mutation finds it on any process. Only
    // mutations that took effect: running a failed one again changes nothing. Relaxed:
    // committed (a crash keeps it); a power loss may drop the newest answers.
    if (stored_key.session.size() <= kMaxStoredSession && response.size() <= kMaxStoredAnswer) {
      try {
        const Millis now = NowMillis();
        Store::WriteJob keep = [&](Repo& repo) {
          repo.PutMutationAnswer(stored_key, response, now);
          return true;
        };
        co_await deps_.db.Write(std::move(keep), Store::Durability::kRelaxed);
      } catch (const std::exception& e) {
        // The database went away after the mutation: this process still remembers it.
        LogWarn("mutation answer not stored", {{"user", user_}, {"error", e.what()}});
      }
    }
  } else {
    response = respond_failure(outcome.error_message);
  }
  deps_.mutations.Finish(log_key, *request_id, response);
  Send(std::move(response));
  if (outcome.ok) RequestTransition();
}

// Removed queries wait in pending_ until the next Transition is built, which a client that
// does not read delays: adding and removing ids in a loop must not grow it without end.
bool SyncSession::WithinPendingBound() {
  const auto bound = 2 * static_cast<std::size_t>(CurrentLimits().ws_max_queries) + 16;
  if (pending_.size() <= bound) return true;
  CloseForLimit(1008, "ws_unsent_bytes",
                "too many query changes unsent; the client is not reading");
  return false;
}

bool SyncSession::WithinLimits(const std::string& udf, const json::object* args,
                               std::int64_t query_id) {
  if (udf.size() > kMaxUdfPath) {
    Fatal("Malformed message: udfPath longer than " + std::to_string(kMaxUdfPath) + " bytes");
    return false;
  }
  if (!args) return true;
  const auto max_args = CurrentLimits().ws_max_query_args_bytes;
  const auto size = static_cast<std::int64_t>(json::serialize(*args).size());
  if (size > max_args) {
    CloseForLimit(1008, "ws_query_args_bytes",
                  "arguments over " + std::to_string(max_args) + " bytes");
    return false;
  }
  auto it = queries_.find(query_id);
  const std::int64_t replaced = it == queries_.end() ? 0 : it->second.args_bytes;
  const std::int64_t budget = signed_in() ? max_args * kSessionArgsFactor : kAnonymousArgsBytes;
  if (static_cast<std::int64_t>(args_bytes_) - replaced + size > budget) {
    CloseForLimit(
        1008, "ws_query_args_bytes",
        "the session's queries hold over " + std::to_string(budget) + " bytes of arguments");
    return false;
  }
  return true;
}

void SyncSession::OnAction(const json::object& msg) {
  auto request_id = IntField(msg, "requestId");
  if (!request_id) return Fatal("Malformed Action");
  Send("{\"type\":\"ActionResponse\",\"requestId\":" + std::to_string(*request_id) +
       ",\"success\":false,\"result\":" +
       Quote("Actions are not supported: this server has queries and mutations only") +
       ",\"logLines\":[]}");
}

std::optional<std::string> SyncSession::BuildTransition() {
  const auto max_frame = static_cast<std::size_t>(CurrentLimits().ws_max_out_frame_bytes);
  Version end{requested_query_set_, requested_identity_, std::max(sent_.ts, deps_.clock.Latest())};
  std::string out = "{\"type\":\"Transition\",\"startVersion\":";
  out += VersionJson(sent_.query_set, sent_.identity, sent_.ts);
  out += ",\"endVersion\":";
  out += VersionJson(end.query_set, end.identity, end.ts);
  out += ",\"modifications\":[";
  bool first = true;
  for (const auto& [id, p] : pending_) {
    auto it = queries_.find(id);
    const bool removed = p.removed && it == queries_.end();
    const bool updated = !removed && it != queries_.end() && it->second.active && it->second.latest;
    if (!removed && !updated) continue;
    if (updated) {
      auto& q = it->second;
      if (!p.removed && q.sent && q.sent->SameAs(*q.latest)) continue;
      q.sent = q.latest;
    }
    if (!first) out += ',';
    first = false;
    // Appended in place: the shared result is copied once, straight into this frame.
    if (removed) {
      out += "{\"type\":\"QueryRemoved\",\"queryId\":";
      out += std::to_string(id);
      out += '}';
    } else {
      const std::string& fragment = it->second.latest->fragment();
      // Checked before the copy: a frame over the limit is never built, whatever the query
      // set asks for (thousands of ids watching one large document).
      if (out.size() + fragment.size() + 32 > max_frame) {
        CloseForLimit(1009, "ws_out_frame_bytes",
                      "an update would exceed " + std::to_string(max_frame) +
                          " bytes; watch fewer or smaller queries",
                      /*drop_unsent=*/true);
        return std::nullopt;
      }
      out.reserve(out.size() + fragment.size() + 32);
      out += "{\"queryId\":";
      out += std::to_string(id);
      out += ',';
      out += fragment;
    }
  }
  out += "]}";
  pending_.clear();
  sent_ = end;
  return out;
}

asio::awaitable<std::optional<std::string>> SyncSession::NextFrame() {
  while (true) {
    if (!outbox_.empty()) {
      auto next = std::move(outbox_.front());
      outbox_.pop_front();
      outbox_bytes_ -= next.frame.size();
      if (!next.frame.empty()) co_return std::move(next.frame);
      if (auto t = BuildTransition()) co_return std::move(*t);
      continue;
    }
    if (closing_) co_return std::nullopt;
    if (!pending_.empty()) {
      if (auto t = BuildTransition()) co_return std::move(*t);
      continue;
    }
    signal_.expires_after(kPingAfter);
    auto [ec] = co_await signal_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!ec) co_return std::string("{\"type\":\"Ping\"}");  // 15 s of silence
  }
}

void SyncSession::Send(std::string frame) {
  if (closing_) return;
  if (outbox_.size() >= kMaxOutbox) {
    Close(1011, "InternalServerError: the client is not reading its messages");
    return;
  }
  const auto max_unsent = static_cast<std::size_t>(CurrentLimits().ws_max_unsent_bytes);
  if (outbox_bytes_ + frame.size() > max_unsent) {
    CloseForLimit(1008, "ws_unsent_bytes",
                  "over " + std::to_string(max_unsent) +
                      " bytes of answers unread; the client is not reading",
                  /*drop_unsent=*/true);
    return;
  }
  outbox_bytes_ += frame.size();
  outbox_.push_back({std::move(frame)});
  Wake();
}

void SyncSession::RequestTransition() {
  if (closing_) return;
  if (!outbox_.empty() && outbox_.back().frame.empty()) return;  // one is already queued
  outbox_.push_back({});
  Wake();
}

void SyncSession::Fatal(std::string message) {
  Send("{\"type\":\"FatalError\",\"error\":" + Quote(message) + "}");
  Close(1002, "FatalError");
}

void SyncSession::Close(int code, std::string reason) {
  if (closing_) return;
  closing_ = true;
  close_code_ = code;
  close_reason_ = std::move(reason);
  deps_.hub.UnsubscribeAll(this);
  expiry_.cancel();
  stream_lease_.reset();
  Wake();
}

void SyncSession::RefuseFrame(std::size_t limit) {
  CloseForLimit(1009, "ws_frame_bytes", "a message over " + std::to_string(limit) + " bytes",
                /*drop_unsent=*/true);
}

void SyncSession::CloseForLimit(int code, std::string_view limit, const std::string& detail,
                                bool drop_unsent) {
  CountLimitHit(std::string(limit));
  Close(code, std::string(limit) + ": " + detail);
  if (drop_unsent) DropOutbox();  // the close goes out at once
}

void SyncSession::DropOutbox() {
  outbox_.clear();
  outbox_bytes_ = 0;
}

void SyncSession::PeerClosed() {
  Close(-1, "");  // -1: nothing to send, the peer is gone
  DropOutbox();
  Wake();
}

// AuthError, then a close without a code (the client sees 1005, as with the reference server).
void SyncSession::RejectAuth(const std::string& error, std::int64_t base_version,
                             bool update_attempted) {
  Send("{\"type\":\"AuthError\",\"error\":" + Quote(error) +
       ",\"baseVersion\":" + std::to_string(base_version) +
       ",\"authUpdateAttempted\":" + (update_attempted ? "true" : "false") + "}");
  Close(0, "");
}

void SyncSession::Wake() {
  signal_.cancel();
}

}  // namespace polaris::realtime
