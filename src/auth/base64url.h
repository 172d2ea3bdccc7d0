#pragma once
// Base64url (RFC 4648 section 5) as used by JWS/JWK: URL-safe alphabet, no padding on output.
#include <optional>
#include <string>
#include <string_view>

namespace polaris {

std::string Base64UrlEncode(std::string_view bytes);

// Accepts input with or without '=' padding. Returns nullopt on characters outside the
// alphabet, impossible lengths, or non-zero trailing bits (so every byte string has exactly
// one accepted encoding and signatures cannot be re-encoded).
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace polaris
