#include "realtime/query_hub.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "domain/clock.h"
#include "domain/live_tail.h"
#include "domain/topics.h"
#include "realtime/await_callback.h"
#include "realtime/convex_encoding.h"
#include "realtime/functions.h"
#include "store/store.h"

namespace polaris::realtime {
namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kMinRerunInterval = std::chrono::milliseconds(50);

// The conversation whose messages a query lists (its text can be live), or "".
std::string LiveConversation(const QuerySpec& spec) {
  if (spec.udf_path != "messages:getMessages" && spec.udf_path != "conversations:getMessages") {
    return "";
  }
  const auto* id = spec.args.if_contains("conversationId");
  return id && id->is_string() ? std::string(id->as_string()) : "";
}

// Reads record their topics for one query run, whatever way the run ends.
struct RecordingReads {
  explicit RecordingReads(Repo& r) : repo(r) { repo.RecordReads(true); }
  ~RecordingReads() { repo.RecordReads(false); }
  Repo& repo;
};
}  // namespace

bool QueryResult::SameAs(const QueryResult& other) const {
  if (this == &other) return true;
  if (ok != other.ok) return false;
  return ok ? value == other.value : error_message == other.error_message;
}

const std::string& QueryResult::fragment() const {
  std::call_once(serialized_, [this] {
    if (ok) {
      fragment_ = "\"type\":\"QueryUpdated\",\"value\":";
      fragment_ += json::serialize(value);
    } else {
      fragment_ = "\"type\":\"QueryFailed\",\"errorMessage\":";
      fragment_ += json::serialize(json::string(error_message));
    }
    fragment_ += ",\"logLines\":[],\"journal\":null}";
  });
  return fragment_;
}

QueryResultPtr MakeQuerySuccess(json::value value) {
  auto r = std::make_shared<QueryResult>();
  r->ok = true;
  r->value = std::move(value);
  return r;
}

QueryResultPtr MakeQueryFailure(std::string error_message) {
  auto r = std::make_shared<QueryResult>();
  r->error_message = std::move(error_message);
  return r;
}

struct QueryHub::Impl : std::enable_shared_from_this<Impl> {
  struct Instance {
    std::string key;
    QuerySpec spec;
    const Function* fn = nullptr;
    std::set<std::string> topics;
    QueryResultPtr result;          // as handed out: the stored result with the live text laid over
    QueryResultPtr stored;          // the function's last result
    std::string live_conversation;  // set for message lists
    // The content last laid over each processing message: a stored result that is only an
    // older copy of it (the run just ended, its final commit not yet re-run) keeps it.
    std::map<std::string, std::string> live_content;
    QueryResultPtr listed_from;       // the stored result `listed` was made from
    std::set<std::string> listed;     // ids in the stored list
    std::set<std::string> asked_for;  // live messages it was re-run at once for
    bool urgent = false;              // re-run without waiting for the 50 ms window
    Clock::time_point last_live_push{};
    std::unique_ptr<asio::steady_timer> live_timer;
    bool live_timer_armed = false;
    std::map<std::pair<const QuerySubscriber*, std::int64_t>, std::weak_ptr<QuerySubscriber>> subs;
    std::uint64_t dirty_gen = 1, clean_gen = 0;
    bool running = false;
    bool removed = false;
    Clock::time_point last_start{};
    std::unique_ptr<asio::steady_timer> timer;
    bool timer_armed = false;
    std::vector<std::function<void(QueryResultPtr)>> first_result;
    struct SettleWait {
      std::uint64_t gen;
      std::shared_ptr<std::function<void()>> done;
      std::shared_ptr<int> remaining;
    };
    std::vector<SettleWait> settle;
  };
  using InstancePtr = std::shared_ptr<Instance>;

  Impl(asio::any_io_executor ex, Store& s, LiveTail* t, std::chrono::milliseconds interval)
      : strand(asio::make_strand(ex)), store(s), tail(t), live_interval(interval) {}

  asio::strand<asio::any_io_executor> strand;
  Store& store;
  LiveTail* tail;
  std::chrono::milliseconds live_interval;
  struct LiveWatch {
    std::unique_ptr<LiveTail::Watch> watch;
    std::set<Instance*> instances;
  };
  std::unordered_map<std::string, LiveWatch> live_watches;  // by conversation
  std::unordered_map<std::string, InstancePtr> instances;
  std::unordered_map<std::string, std::set<Instance*>> by_topic;
  // Running with no topics known yet (a first run): a commit cannot be matched to them, and
  // their reader may have read before it, so any commit marks them dirty.
  std::set<Instance*> topicless_runs;
  std::unordered_map<const QuerySubscriber*, std::map<std::int64_t, InstancePtr>> by_sub;
  std::uint64_t runs = 0, changed = 0;

  static std::string KeyOf(const QuerySpec& spec) {
    std::string key = spec.udf_path;
    key += '\n';
    key += spec.user;
    key += '\n';
    key += spec.convex_safe ? 'c' : 'p';
    key += spec.live_text ? 'l' : 's';
    key += json::serialize(spec.args);
    return key;
  }

  void Invalidate(const std::vector<std::string>& topics) {
    std::set<Instance*> hit;
    auto mark = [&](const std::string& topic) {
      auto it = by_topic.find(topic);
      if (it != by_topic.end()) hit.insert(it->second.begin(), it->second.end());
    };
    hit.insert(topicless_runs.begin(), topicless_runs.end());
    for (const auto& t : topics) {
      if (t == topics::Everything()) {
        for (auto& [key, inst] : instances) hit.insert(inst.get());
        continue;
      }
      if (auto content = topics::ParseMessageContent(t)) {
        // A streamed-text flush of a reply this process is streaming: the live tail already
        // has newer text, and a re-run would only find the overlay unchanged.
        if (tail && tail->Content(std::string(content->message_id))) continue;
        mark(topics::Messages(content->conversation_id));
        continue;
      }
      mark(t);
    }
    for (Instance* inst : hit) {
      ++inst->dirty_gen;
      Schedule(instances.at(inst->key));
    }
  }

  // Runs now if the last run started 50 ms ago or more, else when that interval is over.
  void Schedule(const InstancePtr& inst) {
    if (inst->running || inst->timer_armed || inst->removed) return;
    auto due = inst->last_start + kMinRerunInterval;
    if (Clock::now() >= due || inst->urgent) {
      Run(inst);
      return;
    }
    if (!inst->timer) inst->timer = std::make_unique<asio::steady_timer>(strand);
    inst->timer_armed = true;
    inst->timer->expires_at(due);
    inst->timer->async_wait([self = shared_from_this(), inst](const boost::system::error_code&) {
      inst->timer_armed = false;
      if (!inst->removed) self->Schedule(inst);
    });
  }

  void Run(const InstancePtr& inst) {
    inst->running = true;
    if (inst->topics.empty()) topicless_runs.insert(inst.get());
    inst->urgent = false;
    inst->last_start = Clock::now();
    ++runs;
    const std::uint64_t gen = inst->dirty_gen;
    struct Output {
      QueryResultPtr result;
      std::vector<std::string> topics;
    };
    auto out = std::make_shared<Output>();
    // The function runs and its result is serialized on a store reader thread: the event
    // loop only compares and hands out the finished text.
    store.SubmitRead(
        [inst, out](Repo& repo) {
          FunctionContext ctx{repo, inst->spec.user, NowMillis(), inst->spec.convex_safe};
          {
            RecordingReads recording(repo);
            auto r = inst->fn->run(ctx, inst->spec.args);
            out->topics = repo.TakeReadTopics();
            out->result = r.ok() ? MakeQuerySuccess(std::move(r.value()))
                                 : MakeQueryFailure(UncaughtError(r.error().message));
          }
          // Made here, on a reader, not on the event loop. A message list's own text is
          // rarely sent as it is: the live text is laid over it first.
          if (inst->live_conversation.empty()) out->result->fragment();
        },
        [self = shared_from_this(), inst, out, gen](std::exception_ptr e) {
          asio::post(self->strand, [self, inst, out, gen, e] {
            if (e || !out->result) out->result = MakeQueryFailure("InternalServerError");
            self->Finished(inst, gen, std::move(out->result), std::move(out->topics));
          });
        });
  }

  void Finished(const InstancePtr& inst, std::uint64_t gen, QueryResultPtr result,
                std::vector<std::string> topics) {
    inst->running = false;
    topicless_runs.erase(inst.get());
    inst->clean_gen = gen;
    if (inst->removed) return;
    SetTopics(*inst, std::set<std::string>(topics.begin(), topics.end()));
    inst->stored = std::move(result);
    HandOut(*inst, Overlay(*inst));
    for (auto& done : std::exchange(inst->first_result, {})) done(inst->result);
    WakeSettled(*inst, false);
    if (inst->subs.empty()) {
      Remove(inst);
      return;
    }
    if (inst->dirty_gen > inst->clean_gen) Schedule(inst);
  }

  // Hands a result to every subscriber unless it is the one they have.
  void HandOut(Instance& inst, QueryResultPtr result) {
    if (inst.result && inst.result->SameAs(*result)) return;
    inst.result = std::move(result);
    ++changed;
    for (auto it = inst.subs.begin(); it != inst.subs.end();) {
      if (auto sub = it->second.lock()) {
        sub->OnQueryResult(it->first.second, inst.result);
        ++it;
      } else {
        it = inst.subs.erase(it);
      }
    }
  }

  // The stored message list with the live text of processing messages laid over it.
  QueryResultPtr Overlay(Instance& inst) {
    if (!tail || inst.live_conversation.empty() || !inst.stored || !inst.stored->ok) {
      return inst.stored;
    }
    const auto* list = inst.stored->value.if_array();
    if (!list) return inst.stored;
    if (inst.listed_from != inst.stored) {
      inst.listed.clear();
      for (const auto& item : *list) {
        const auto* doc = item.if_object();
        const auto* id = doc ? doc->if_contains("_id") : nullptr;
        if (id && id->is_string()) inst.listed.emplace(id->as_string());
      }
      inst.listed_from = inst.stored;
    }
    std::optional<json::array> out;  // copied from the stored list at the first live text
    std::map<std::string, std::string> seen;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto* doc = (*list)[i].if_object();
      if (!doc) continue;
      const auto* id = doc->if_contains("_id");
      const auto* status = doc->if_contains("status");
      const auto* content = doc->if_contains("content");
      if (!id || !id->is_string() || !status || !status->is_string() ||
          status->as_string() != "processing" || !content || !content->is_string()) {
        continue;  // final messages: the store alone speaks for them
      }
      const std::string key(id->as_string());
      const json::string& stored = content->as_string();
      std::string want(stored);
      if (auto live = tail->Content(key)) {
        want = std::move(*live);
      } else if (auto prev = inst.live_content.find(key);
                 prev != inst.live_content.end() && prev->second.starts_with(want)) {
        want = prev->second;  // the store has not caught up with what was shown
      }
      if (want != stored) {
        if (!out) out = *list;
        (*out)[i].as_object()["content"] = want;
      }
      seen.emplace(key, std::move(want));
    }
    inst.live_content = std::move(seen);
    if (!out) return inst.stored;
    return MakeQuerySuccess(std::move(*out));
  }

  // The tail has news of the conversation: its lists are pushed again, at most once per live
  // interval, the first at once.
  void OnLive(const std::string& conversation_id, const std::string& message_id) {
    auto it = live_watches.find(conversation_id);
    if (it == live_watches.end()) return;
    for (Instance* raw : it->second.instances) {
      const InstancePtr& inst = instances.at(raw->key);
      if (inst->stored && inst->stored->ok && !inst->listed.count(message_id) &&
          inst->asked_for.insert(message_id).second) {
        // Text for a message the list does not have yet (just posted): the list is re-run
        // at once rather than when its 50 ms window ends, so the first words are not held.
        ++inst->dirty_gen;
        inst->urgent = true;
        if (inst->timer_armed) inst->timer->cancel();  // its handler re-schedules
        Schedule(inst);
      } else {
        ScheduleLive(inst);
      }
    }
  }

  void ScheduleLive(const InstancePtr& inst) {
    if (inst->removed || inst->live_timer_armed || !inst->stored) return;
    auto due = inst->last_live_push + live_interval;
    if (Clock::now() >= due) {
      inst->last_live_push = Clock::now();
      HandOut(*inst, Overlay(*inst));
      return;
    }
    if (!inst->live_timer) inst->live_timer = std::make_unique<asio::steady_timer>(strand);
    inst->live_timer_armed = true;
    inst->live_timer->expires_at(due);
    inst->live_timer->async_wait(
        [self = shared_from_this(), inst](const boost::system::error_code&) {
          inst->live_timer_armed = false;
          if (!inst->removed) self->ScheduleLive(inst);
        });
  }

  void WatchLive(Instance& inst) {
    inst.live_conversation = tail && inst.spec.live_text ? LiveConversation(inst.spec) : "";
    if (inst.live_conversation.empty()) return;
    auto& w = live_watches[inst.live_conversation];
    if (!w.watch) {
      std::weak_ptr<Impl> weak = shared_from_this();
      w.watch = tail->Subscribe(inst.live_conversation,
                                [weak, strand = strand, conversation = inst.live_conversation](
                                    const std::string& message_id) {
                                  if (auto self = weak.lock()) {
                                    asio::post(strand, [weak, conversation, message_id] {
                                      if (auto s = weak.lock()) s->OnLive(conversation, message_id);
                                    });
                                  }
                                });
    }
    w.instances.insert(&inst);
  }

  void UnwatchLive(Instance& inst) {
    if (inst.live_conversation.empty()) return;
    auto it = live_watches.find(inst.live_conversation);
    if (it == live_watches.end()) return;
    it->second.instances.erase(&inst);
    if (it->second.instances.empty()) live_watches.erase(it);
  }

  void WakeSettled(Instance& inst, bool all) {
    std::vector<Instance::SettleWait> keep;
    for (auto& w : inst.settle) {
      if (all || w.gen <= inst.clean_gen) {
        if (--*w.remaining == 0) (*w.done)();
      } else {
        keep.push_back(std::move(w));
      }
    }
    inst.settle = std::move(keep);
  }

  void SetTopics(Instance& inst, std::set<std::string> topics) {
    for (const auto& t : inst.topics) {
      if (topics.count(t)) continue;
      auto it = by_topic.find(t);
      if (it == by_topic.end()) continue;
      it->second.erase(&inst);
      if (it->second.empty()) by_topic.erase(it);
    }
    for (const auto& t : topics) by_topic[t].insert(&inst);
    inst.topics = std::move(topics);
  }

  void Remove(const InstancePtr& inst) {
    inst->removed = true;
    topicless_runs.erase(inst.get());
    if (inst->timer) inst->timer->cancel();
    if (inst->live_timer) inst->live_timer->cancel();
    UnwatchLive(*inst);
    SetTopics(*inst, {});
    WakeSettled(*inst, true);
    for (auto& done : std::exchange(inst->first_result, {})) {
      done(inst->result ? inst->result : MakeQueryFailure("Query removed"));
    }
    instances.erase(inst->key);
  }

  void Detach(const QuerySubscriber* sub, std::int64_t query_id) {
    auto s = by_sub.find(sub);
    if (s == by_sub.end()) return;
    auto q = s->second.find(query_id);
    if (q == s->second.end()) return;
    InstancePtr inst = q->second;
    s->second.erase(q);
    if (s->second.empty()) by_sub.erase(s);
    inst->subs.erase({sub, query_id});
    if (inst->subs.empty() && !inst->running) Remove(inst);
  }
};

QueryHub::QueryHub(asio::any_io_executor executor, Store& store, LiveTail* tail,
                   std::chrono::milliseconds live_interval)
    : impl_(std::make_shared<Impl>(std::move(executor), store, tail, live_interval)) {}

QueryHub::~QueryHub() = default;

void QueryHub::OnCommit(std::vector<std::string> topics) {
  asio::post(impl_->strand,
             [impl = impl_, topics = std::move(topics)] { impl->Invalidate(topics); });
}

asio::awaitable<QueryResultPtr> QueryHub::Subscribe(std::weak_ptr<QuerySubscriber> subscriber,
                                                    std::int64_t query_id, QuerySpec spec) {
  auto impl = impl_;
  auto start = [&](std::function<void(QueryResultPtr)> done) {
    asio::post(impl->strand, [impl, subscriber, query_id, spec = std::move(spec),
                              done = std::move(done)]() mutable {
      auto sub = subscriber.lock();
      if (!sub) return done(MakeQueryFailure("Subscriber gone"));
      const Function* fn = FindFunction(spec.udf_path, FunctionKind::kQuery);
      if (!fn) return done(MakeQueryFailure(UnknownFunctionError(spec.udf_path)));
      impl->Detach(sub.get(), query_id);  // re-adding an id replaces its query
      auto key = Impl::KeyOf(spec);
      auto& inst = impl->instances[key];
      const bool fresh = !inst;
      if (fresh) {
        inst = std::make_shared<Impl::Instance>();
        inst->key = key;
        inst->spec = std::move(spec);
        inst->fn = fn;
        impl->WatchLive(*inst);
      }
      auto keep = inst;  // the map entry may move when Run completes synchronously (it can't)
      keep->subs[{sub.get(), query_id}] = subscriber;
      impl->by_sub[sub.get()][query_id] = keep;
      if (keep->result) {
        done(keep->result);
      } else {
        keep->first_result.push_back(std::move(done));
      }
      if (fresh) impl->Schedule(keep);
    });
  };
  co_return co_await AwaitCallback<QueryResultPtr>(start);
}

void QueryHub::Unsubscribe(const QuerySubscriber* subscriber, std::int64_t query_id) {
  asio::post(impl_->strand,
             [impl = impl_, subscriber, query_id] { impl->Detach(subscriber, query_id); });
}

void QueryHub::UnsubscribeAll(const QuerySubscriber* subscriber) {
  asio::post(impl_->strand, [impl = impl_, subscriber] {
    auto it = impl->by_sub.find(subscriber);
    if (it == impl->by_sub.end()) return;
    std::vector<std::int64_t> ids;
    for (const auto& [id, inst] : it->second) ids.push_back(id);
    for (auto id : ids) impl->Detach(subscriber, id);
  });
}

asio::awaitable<void> QueryHub::Settle(const QuerySubscriber* subscriber) {
  auto impl = impl_;
  auto start = [&](std::function<void(bool)> done) {
    asio::post(impl->strand, [impl, subscriber, done = std::move(done)] {
      auto remaining = std::make_shared<int>(1);  // held until every instance is registered
      auto finish = std::make_shared<std::function<void()>>([done] { done(true); });
      auto it = impl->by_sub.find(subscriber);
      if (it != impl->by_sub.end()) {
        for (const auto& [id, inst] : it->second) {
          if (inst->clean_gen >= inst->dirty_gen) continue;
          ++*remaining;
          inst->settle.push_back({inst->dirty_gen, finish, remaining});
        }
      }
      if (--*remaining == 0) (*finish)();
    });
  };
  co_await AwaitCallback<bool>(start);
}

asio::awaitable<QueryHub::Stats> QueryHub::GetStats() {
  auto impl = impl_;
  auto start = [&](std::function<void(Stats)> done) {
    asio::post(impl->strand, [impl, done = std::move(done)] {
      Stats s;
      s.instances = impl->instances.size();
      for (const auto& [sub, queries] : impl->by_sub) s.subscriptions += queries.size();
      s.runs = impl->runs;
      s.results_changed = impl->changed;
      done(s);
    });
  };
  co_return co_await AwaitCallback<Stats>(start);
}

}  // namespace polaris::realtime
