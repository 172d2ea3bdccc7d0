#pragma once
// Turns a callback-style operation into an awaitable: `start` gets a completion function that
// may be called once, from any thread; the coroutine resumes on its own executor.
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>

namespace polaris::realtime {

template <class T, class Start>
boost::asio::awaitable<T> AwaitCallback(Start start) {
  namespace asio = boost::asio;
  auto ex = co_await asio::this_coro::executor;
  // Named, not a temporary inside co_await (g++ 12: docs/architecture.md "Coroutine rule").
  auto initiation = [&start, ex](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    start(std::function<void(T)>([h, ex](T value) {
      asio::post(ex, [h, v = std::move(value)]() mutable { std::move (*h)(std::move(v)); });
    }));
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(
      initiation, asio::use_awaitable);
}

}  // namespace polaris::realtime
