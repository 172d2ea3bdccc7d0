#pragma once
// The Convex sync WebSocket: takes over an upgraded HTTP connection and runs a SyncSession
// on it. Only server.cpp and websocket.cpp include this (it pulls in Beast).
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace polaris::realtime {
struct SyncDeps;
}

namespace polaris::http {

using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

// A GET with "Upgrade: websocket" to /api/<version>/sync or /api/sync.
bool IsSyncUpgrade(const UpgradeRequest& req);

boost::asio::awaitable<void> ServeSyncSocket(boost::beast::tcp_stream stream, UpgradeRequest req,
                                             const realtime::SyncDeps& deps);

}  // namespace polaris::http
