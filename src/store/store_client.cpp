#include "store/store_client.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

namespace polaris {
namespace asio = boost::asio;

namespace {
// Hands a completion from a store thread back to the coroutine's executor.
template <class Submit>
asio::awaitable<void> AwaitStore(Submit submit) {
  auto ex = co_await asio::this_coro::executor;
  // A named initiation, not a temporary: g++ 12 destroys temporaries bound to references in a
  // co_await expression twice (see docs/architecture.md, "Coroutine rule").
  auto initiation = [&submit, ex](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    submit(
        [h, ex](std::exception_ptr e) { asio::post(ex, [h, e]() mutable { std::move (*h)(e); }); });
  };
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(
      initiation, asio::use_awaitable);
}
}  // namespace

asio::awaitable<void> StoreClient::Read(Store::ReadJob job) {
  co_await AwaitStore(
      [&](Store::Done done) { store_.SubmitRead(std::move(job), std::move(done)); });
}

asio::awaitable<void> StoreClient::ReadInBackground(Store::ReadJob job) {
  co_await AwaitStore(
      [&](Store::Done done) { store_.SubmitBackgroundRead(std::move(job), std::move(done)); });
}

asio::awaitable<void> StoreClient::Write(Store::WriteJob job, Store::Durability durability) {
  co_await AwaitStore(
      [&](Store::Done done) { store_.SubmitWrite(std::move(job), std::move(done), durability); });
}

}  // namespace polaris
