#pragma once
// An io_context driven from the test thread in small slices, so coroutines under test run on
// the test thread and the test can wait for what they do without sleeping blindly.
#include <gtest/gtest.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

namespace polaris::test_support {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// How long a test waits for something that should happen (a hang guard, not a measurement).
constexpr auto kWaitLimit = std::chrono::seconds(5);

class LoopFixture : public ::testing::Test {
 protected:
  // True once pred() holds; false after `limit`.
  bool RunUntil(const std::function<bool()>& pred,
                std::chrono::steady_clock::duration limit = kWaitLimit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      ioc_.run_for(2ms);
    }
    return true;
  }
  // Lets queued handlers run for a while (used before checking that nothing else happened;
  // the checks that follow never depend on how long this took).
  void Spin(std::chrono::steady_clock::duration d) { ioc_.run_for(d); }

  // Spawns f() (a coroutine) on ex and runs the loop until it finishes. Returns the value
  // (or true for void coroutines); nullopt when it did not finish within kWaitLimit.
  // Exceptions from the coroutine are rethrown here. `slot`, when connected, is bound to the
  // spawn: emitting its signal cancels what the coroutine awaits.
  template <class F>
  auto Await(const asio::any_io_executor& ex, F f, asio::cancellation_slot slot = {}) {
    using Awaitable = std::invoke_result_t<F&>;
    using T = typename Awaitable::value_type;
    using Value = std::conditional_t<std::is_void_v<T>, bool, T>;
    struct State {
      bool done = false;
      std::exception_ptr error;
      std::optional<Value> value;
    };
    auto state = std::make_shared<State>();
    if constexpr (std::is_void_v<T>) {
      asio::co_spawn(ex, std::move(f),
                     asio::bind_cancellation_slot(slot, [state](std::exception_ptr e) {
                       state->done = true;
                       state->error = e;
                       state->value = true;
                     }));
    } else {
      asio::co_spawn(ex, std::move(f),
                     asio::bind_cancellation_slot(slot, [state](std::exception_ptr e, T v) {
                       state->done = true;
                       state->error = e;
                       if (!e) state->value = std::move(v);
                     }));
    }
    RunUntil([&] { return state->done; });
    if (state->error) std::rethrow_exception(state->error);
    return std::move(state->value);
  }
  template <class F>
  auto Await(F f) {
    return Await(ioc_.get_executor(), std::move(f));
  }

  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
};

}  // namespace polaris::test_support
