#include "providers/chain.h"

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/this_coro.hpp>

#include "domain/env.h"
#include "domain/log.h"
#include "metrics/metrics.h"

namespace polaris::providers {
namespace {
using namespace std::chrono;

std::string Env(const char* name, const char* fallback) {
  return EnvString(name).value_or(fallback);
}
}  // namespace

Result<ChainConfig> ChainConfigFromEnv() {
  ChainConfig c;
  std::string key = Env("OPENROUTER_API_KEY", "");
  if (!key.empty()) {
    c.providers.push_back({"openrouter", Env("OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1"),
                           key, Env("OPENROUTER_MODEL", "moonshotai/kimi-k2.5")});
  }
  key = Env("CEREBRAS_API_KEY", "");
  if (!key.empty()) {
    c.providers.push_back({"cerebras", Env("CEREBRAS_BASE_URL", "https://api.cerebras.ai/v1"), key,
                           Env("CEREBRAS_MODEL", "zai-glm-4.7")});
  }
  // Milliseconds, 1 to a day. Out of range is an error, not a clamp: a 0 meant as "no
  // timeout" would otherwise fail every step after 1 ms.
  constexpr long long kDay = 24LL * 3600 * 1000;
  const std::pair<const char*, milliseconds*> durations[] = {
      {"POLARIS_PROVIDER_CONNECT_TIMEOUT_MS", &c.timeouts.connect},
      {"POLARIS_PROVIDER_FIRST_BYTE_TIMEOUT_MS", &c.timeouts.first_byte},
      {"POLARIS_PROVIDER_IDLE_TIMEOUT_MS", &c.timeouts.idle},
      {"POLARIS_BREAKER_COOLDOWN_MS", &c.breaker_cooldown},
  };
  for (const auto& [name, field] : durations) {
    auto ms = EnvInteger(name);
    if (!ms) return ms.error();
    if (!*ms) continue;  // unset: the default
    if (**ms < 1 || **ms > kDay) {
      return Error::BadRequest(std::string(name) + " must be a number of milliseconds from 1 to " +
                               std::to_string(kDay) + " (got " + std::to_string(**ms) + ")");
    }
    *field = milliseconds(**ms);
  }
  return c;
}

ProviderChain::ProviderChain(ChainConfig config, Metrics* metrics, StepStreamer& streamer)
    : config_(std::move(config)), metrics_(metrics), streamer_(streamer) {}

bool ProviderChain::IsOpen(const std::string& provider) const {
  std::lock_guard lock(mu_);
  auto it = breakers_.find(provider);
  return it != breakers_.end() && steady_clock::now() < it->second.open_until;
}

// Closed breakers first, in configured order; open ones after them, so that a step still has
// somewhere to go when everything is failing.
std::vector<const ProviderConfig*> ProviderChain::Order() const {
  std::vector<const ProviderConfig*> closed, open;
  for (const auto& p : config_.providers) (IsOpen(p.name) ? open : closed).push_back(&p);
  closed.insert(closed.end(), open.begin(), open.end());
  return closed;
}

void ProviderChain::RecordSuccess(const std::string& name) {
  std::lock_guard lock(mu_);
  breakers_[name] = Breaker{};
}

void ProviderChain::RecordFailure(const std::string& name,
                                  std::optional<std::chrono::seconds> retry_after) {
  std::lock_guard lock(mu_);
  auto& b = breakers_[name];
  ++b.failures;
  auto now = steady_clock::now();
  if (b.failures >= config_.breaker_threshold) {
    if (b.failures == config_.breaker_threshold) {
      LogWarn("provider breaker opened", {{"provider", name},
                                          {"failures", b.failures},
                                          {"cooldown_ms", config_.breaker_cooldown.count()}});
    }
    b.open_until = now + config_.breaker_cooldown;
  }
  // The provider told us when to come back: respect it even before the threshold.
  if (retry_after) b.open_until = std::max(b.open_until, now + *retry_after);
}

boost::asio::awaitable<ChainResult> ProviderChain::Step(
    const StepRequest& request, TextSink on_text,
    std::function<boost::asio::awaitable<void>()> on_reset) {
  ChainResult result;
  result.failure = Failure::kFatal;
  result.error = kNoProviderError;
  bool streamed = false;
  auto order = Order();
  const boost::asio::cancellation_state state = co_await boost::asio::this_coro::cancellation_state;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (state.cancelled() != boost::asio::cancellation_type::none) {
      result.failure = Failure::kCancelled;  // not a provider's fault: no fallback, no breaker
      result.error = "cancelled";
      co_return result;
    }
    const ProviderConfig& p = *order[i];
    if (streamed) co_await on_reset();
    streamed = false;
    if (metrics_) metrics_->CountProviderRequest(p.name);
    const auto started = steady_clock::now();
    bool first = true;
    auto sink = [&](std::string_view text) -> boost::asio::awaitable<void> {
      if (first && metrics_) {
        metrics_->time_to_first_token().Observe(
            duration<double>(steady_clock::now() - started).count());
      }
      first = false;
      streamed = true;
      co_await on_text(text);
    };
    StepResult r = co_await streamer_.Stream(p, config_.timeouts, request, sink);
    static_cast<StepResult&>(result) = std::move(r);
    result.provider = p.name;
    result.model = p.model;
    if (result.ok()) {
      RecordSuccess(p.name);
      co_return result;
    }
    if (result.failure == Failure::kCancelled) co_return result;
    if (metrics_) metrics_->CountProviderError(p.name);
    const bool fatal = result.failure == Failure::kFatal;
    const bool falls_back = !fatal && i + 1 < order.size();
    LogWarn(fatal        ? "provider failed: not retried (the request or the key is wrong)"
            : falls_back ? "provider failed: falling back"
                         : "provider failed: no provider left",
            {{"for", request.log_id},
             {"provider", p.name},
             {"status", result.http_status},
             {"error", result.error},
             {"next", falls_back ? order[i + 1]->name : std::string()}});
    if (fatal) co_return result;  // misconfiguration: say so
    RecordFailure(p.name, result.retry_after);
    if (falls_back && metrics_) metrics_->CountFallback(p.name);
  }
  co_return result;
}

}  // namespace polaris::providers
