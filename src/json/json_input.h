#pragma once
// Reading JSON that comes from outside (request bodies, tokens, JWKS documents, provider
// streams, tool arguments, sync frames): one parse with one depth limit, and typed members
// that never throw. Every layer that reads such JSON uses these.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace polaris::json_input {

// Deep enough for every document we accept; shallow enough that a hostile one cannot make a
// recursive walk over it costly.
constexpr int kMaxDepth = 64;

// The value `text` holds (strict UTF-8, at most max_depth levels); nullopt when it is not
// JSON. Never throws for bad input.
std::optional<boost::json::value> Parse(std::string_view text, int max_depth = kMaxDepth);
// The same, for text that must be one object.
std::optional<boost::json::object> ParseObject(std::string_view text, int max_depth = kMaxDepth);

// The member when present and not null; nullptr otherwise.
const boost::json::value* Member(const boost::json::object& o, std::string_view key);
// The member when it is a string; nullopt when missing, null or of another type.
std::optional<std::string> StringMember(const boost::json::object& o, std::string_view key);
// The member when it is a whole number: an int64, a uint64 that fits, or an integral double
// within 2^53 (JavaScript clients send numbers as doubles); nullopt otherwise.
std::optional<std::int64_t> IntegerMember(const boost::json::object& o, std::string_view key);

}  // namespace polaris::json_input
