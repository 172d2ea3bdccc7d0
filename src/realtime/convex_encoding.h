#pragma once
// Wire encodings of the Convex protocol: u64 timestamps as standard base64 (with padding) of
// 8 little-endian bytes, and the error-message form of thrown errors.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace polaris::realtime {

std::string EncodeTs(std::uint64_t ts);
// Accepts the standard and the URL-safe alphabet; nullopt unless it decodes to 8 bytes.
std::optional<std::uint64_t> DecodeTs(std::string_view text);
// "Uncaught Error: <message>", as the reference backend reports a thrown Error.
std::string UncaughtError(std::string_view message);

}  // namespace polaris::realtime
