// The provider chain: fallback order, text reset between providers, and the circuit breaker.
#include "providers/chain.h"

#include <gtest/gtest.h>

#include "../support/loop_fixture.h"
#include "scripted_streamer.h"

namespace polaris::providers {
namespace {
using providers_test::ScriptedStep;
using providers_test::ScriptedStreamer;

class ChainTest : public test_support::LoopFixture {
 protected:
  ChainTest() {
    config_.providers = {{"first", "http://first.invalid", "k1", "m1"},
                         {"second", "http://second.invalid", "k2", "m2"}};
    config_.breaker_threshold = 3;
    config_.breaker_cooldown = std::chrono::minutes(10);
  }
  ProviderChain& chain() {
    if (!chain_) chain_ = std::make_unique<ProviderChain>(config_, nullptr, streamer_);
    return *chain_;
  }
  // One step through the chain: its result, the text the sink saw, and how often it reset.
  struct Outcome {
    ChainResult result;
    std::string shown;
    int resets = 0;
  };
  Outcome Step() {
    Outcome out;
    auto r = Await([&]() -> boost::asio::awaitable<ChainResult> {
      TextSink sink = [&](std::string_view t) -> boost::asio::awaitable<void> {
        out.shown.append(t);
        co_return;
      };
      std::function<boost::asio::awaitable<void>()> reset = [&]() -> boost::asio::awaitable<void> {
        out.shown.clear();
        ++out.resets;
        co_return;
      };
      StepRequest req;
      co_return co_await chain().Step(req, sink, reset);
    });
    EXPECT_TRUE(r.has_value());
    if (r) out.result = std::move(*r);
    return out;
  }
  std::vector<std::string> ProvidersAsked() const {
    std::vector<std::string> v;
    for (const auto& s : streamer_.seen()) v.push_back(s.provider);
    return v;
  }

  ChainConfig config_;
  ScriptedStreamer streamer_;
  std::unique_ptr<ProviderChain> chain_;
};

TEST_F(ChainTest, TheFirstProviderAnswersAlone) {
  streamer_.AddText({"Hel", "lo"});
  auto out = Step();
  EXPECT_TRUE(out.result.ok());
  EXPECT_EQ(out.result.text, "Hello");
  EXPECT_EQ(out.result.provider, "first");
  EXPECT_EQ(out.result.model, "m1");
  EXPECT_EQ(out.shown, "Hello");
  EXPECT_EQ(ProvidersAsked(), (std::vector<std::string>{"first"}));
}

TEST_F(ChainTest, ARetryableFailureFallsBackAndDropsTheStreamedText) {
  streamer_.AddFailure(Failure::kRetryable, "first returned HTTP 500", {"half an ans"});
  streamer_.AddText({"Whole answer"});
  auto out = Step();
  EXPECT_TRUE(out.result.ok());
  EXPECT_EQ(out.result.provider, "second");
  EXPECT_EQ(out.shown, "Whole answer") << "the failed provider's text must be reset";
  EXPECT_EQ(out.resets, 1);
  EXPECT_EQ(ProvidersAsked(), (std::vector<std::string>{"first", "second"}));
}

TEST_F(ChainTest, AFatalFailureIsNotRetriedElsewhere) {
  streamer_.AddFailure(Failure::kFatal, "first returned HTTP 401: bad key");
  auto out = Step();
  EXPECT_EQ(out.result.failure, Failure::kFatal);
  EXPECT_EQ(out.result.error, "first returned HTTP 401: bad key");
  EXPECT_EQ(out.result.provider, "first");
  EXPECT_EQ(ProvidersAsked(), (std::vector<std::string>{"first"}));
  EXPECT_FALSE(chain().IsOpen("first")) << "a misconfiguration is not an outage";
}

TEST_F(ChainTest, EveryProviderFailingGivesTheLastError) {
  streamer_.AddFailure(Failure::kRetryable, "first stalled");
  streamer_.AddFailure(Failure::kRetryable, "second returned HTTP 503");
  auto out = Step();
  EXPECT_EQ(out.result.failure, Failure::kRetryable);
  EXPECT_EQ(out.result.error, "second returned HTTP 503");
  EXPECT_EQ(out.result.provider, "second");
}

TEST_F(ChainTest, TheBreakerOpensAfterTheThresholdAndTheNextStepStartsElsewhere) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(chain().IsOpen("first")) << "open after " << i << " failures";
    streamer_.AddFailure(Failure::kRetryable, "first returned HTTP 500");
    streamer_.AddText({"ok"});
    EXPECT_TRUE(Step().result.ok());
  }
  EXPECT_TRUE(chain().IsOpen("first"));
  streamer_.AddText({"from second"});
  auto out = Step();
  EXPECT_EQ(out.result.provider, "second");
  EXPECT_EQ(ProvidersAsked().back(), "second");
  EXPECT_EQ(streamer_.seen().size(), 7u) << "the open provider was not asked first";
}

TEST_F(ChainTest, AnOpenBreakerStillServesWhenEverythingElseFails) {
  config_.providers.resize(1);
  config_.breaker_threshold = 1;
  streamer_.AddFailure(Failure::kRetryable, "first returned HTTP 500");
  EXPECT_FALSE(Step().result.ok());
  EXPECT_TRUE(chain().IsOpen("first"));
  streamer_.AddText({"back"});
  auto out = Step();
  EXPECT_TRUE(out.result.ok()) << "the only provider is still tried, breaker open or not";
  EXPECT_EQ(out.result.text, "back");
  EXPECT_FALSE(chain().IsOpen("first")) << "a success closes the breaker";
}

TEST_F(ChainTest, ASuccessResetsTheFailureCount) {
  for (const bool fail : {true, true, false, true, true}) {
    if (fail) {
      streamer_.AddFailure(Failure::kRetryable, "first returned HTTP 500");
      streamer_.AddText({"second"});
    } else {
      streamer_.AddText({"first"});
    }
    EXPECT_TRUE(Step().result.ok());
  }
  EXPECT_FALSE(chain().IsOpen("first")) << "4 failures, but never 3 in a row";
}

TEST_F(ChainTest, RetryAfterOpensTheBreakerAtOnce) {
  ScriptedStep limited;
  limited.failure = Failure::kRetryable;
  limited.error = "first returned HTTP 429";
  limited.retry_after = std::chrono::seconds(120);
  streamer_.Add(std::move(limited));
  streamer_.AddText({"ok"});
  EXPECT_TRUE(Step().result.ok());
  EXPECT_TRUE(chain().IsOpen("first")) << "the provider said when to come back";
  EXPECT_FALSE(chain().IsOpen("second"));
}

// A cancel reaches the step the way a run's stop does: through the awaiting coroutine's
// cancellation slot (Asio's per-operation cancellation), here emitted mid-stream.
TEST_F(ChainTest, ACancelledStepIsNeitherAFailureNorAFallback) {
  boost::asio::cancellation_signal signal;
  ScriptedStep s;
  s.chunks = {"first words", "never shown"};
  s.mid_stream = [&signal]() -> boost::asio::awaitable<void> {
    signal.emit(boost::asio::cancellation_type::terminal);
    co_return;
  };
  streamer_.Add(std::move(s));
  std::string shown;
  auto r = Await(
      ioc_.get_executor(),
      [&]() -> boost::asio::awaitable<ChainResult> {
        co_await boost::asio::this_coro::throw_if_cancelled(false);
        TextSink sink = [&shown](std::string_view t) -> boost::asio::awaitable<void> {
          shown += t;
          co_return;
        };
        std::function<boost::asio::awaitable<void>()> reset = []() -> boost::asio::awaitable<void> {
          co_return;
        };
        StepRequest req;
        co_return co_await chain().Step(req, sink, reset);
      },
      signal.slot());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->failure, Failure::kCancelled);
  EXPECT_EQ(shown, "first words");
  EXPECT_EQ(ProvidersAsked(), (std::vector<std::string>{"first"})) << "a cancel is no fallback";
  EXPECT_FALSE(chain().IsOpen("first"));
}

TEST_F(ChainTest, MalformedTimeoutsInTheEnvironmentAreNamed) {
  ::setenv("POLARIS_PROVIDER_IDLE_TIMEOUT_MS", "10s", 1);
  auto bad = ChainConfigFromEnv();
  ::unsetenv("POLARIS_PROVIDER_IDLE_TIMEOUT_MS");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("POLARIS_PROVIDER_IDLE_TIMEOUT_MS"), std::string::npos)
      << bad.error().message;
  ::setenv("POLARIS_BREAKER_COOLDOWN_MS", "0", 1);
  auto zero = ChainConfigFromEnv();
  ::unsetenv("POLARIS_BREAKER_COOLDOWN_MS");
  ASSERT_FALSE(zero.ok()) << "0 is out of range, not 1 ms";
  EXPECT_NE(zero.error().message.find("POLARIS_BREAKER_COOLDOWN_MS"), std::string::npos)
      << zero.error().message;
  ::setenv("POLARIS_PROVIDER_CONNECT_TIMEOUT_MS", "250", 1);
  auto good = ChainConfigFromEnv();
  ::unsetenv("POLARIS_PROVIDER_CONNECT_TIMEOUT_MS");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->timeouts.connect, std::chrono::milliseconds(250));
  EXPECT_EQ(good->timeouts.idle, std::chrono::milliseconds(60000));
}

}  // namespace
}  // namespace polaris::providers
