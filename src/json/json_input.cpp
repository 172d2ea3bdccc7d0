#include "json/json_input.h"

#include <boost/json/parse.hpp>
#include <cmath>
#include <limits>

namespace polaris::json_input {
namespace json = boost::json;

std::optional<json::value> Parse(std::string_view text, int max_depth) {
  json::parse_options opts;
  opts.max_depth = static_cast<std::size_t>(max_depth);
  boost::system::error_code ec;
  try {
    json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, opts);
    if (ec) return std::nullopt;
    return v;
  } catch (const std::bad_alloc&) {
    throw;  // out of memory is not bad input
  } catch (const std::exception&) {
    return std::nullopt;  // e.g. a number out of range: still not a document we accept
  }
}

std::optional<json::object> ParseObject(std::string_view text, int max_depth) {
  auto v = Parse(text, max_depth);
  if (!v || !v->is_object()) return std::nullopt;
  return std::move(v->as_object());
}

const json::value* Member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

std::optional<std::string> StringMember(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::optional<std::int64_t> IntegerMember(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) {
    if (v->get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(v->get_uint64());
  }
  if (v->is_double()) {
    const double d = v->get_double();
    constexpr double kMaxSafe = 9007199254740991.0;  // 2^53 - 1
    if (std::isfinite(d) && std::fabs(d) <= kMaxSafe && d == std::trunc(d)) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

}  // namespace polaris::json_input
