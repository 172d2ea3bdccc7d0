#include "http/json_util.h"

#include <boost/json/serialize.hpp>

#include "json/json_input.h"

namespace polaris::http {

Result<boost::json::object> ParseObjectBody(std::string_view body) {
  auto v = json_input::Parse(body);
  if (!v) return Error::BadRequest("Invalid JSON body");
  if (!v->is_object()) return Error::BadRequest("Request body must be a JSON object");
  return std::move(v->as_object());
}

Result<std::string> RequireString(const boost::json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) {
    return Error::BadRequest("Missing field: " + std::string(key));
  }
  if (!it->value().is_string()) {
    return Error::BadRequest("Field '" + std::string(key) + "' must be a string");
  }
  return std::string(it->value().get_string());
}

Result<std::optional<std::string>> OptionalString(const boost::json::object& obj,
                                                  std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) {
    return Error::BadRequest("Field '" + std::string(key) + "' must be a string");
  }
  return std::optional<std::string>(std::string(it->value().get_string()));
}

Response Json(int status, const boost::json::value& body) {
  Response res;
  res.status = status;
  res.body = boost::json::serialize(body);
  return res;
}

int StatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return 400;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kUnprocessable:
      return 422;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kUpstream:
      return 502;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

Response ErrorResponse(const Error& error) {
  boost::json::object body{{"error", error.message}};
  for (const auto& [k, v] : error.fields) body[k] = v;
  auto res = Json(StatusFor(error.code), body);
  if (error.retry_after_seconds > 0) {
    res.headers.emplace_back("Retry-After", std::to_string(error.retry_after_seconds));
  }
  return res;
}

Response ErrorResponse(int status, std::string_view message) {
  return Json(status, boost::json::object{{"error", message}});
}

}  // namespace polaris::http
