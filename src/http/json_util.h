#pragma once
// JSON helpers for the routes: bounded parsing of request bodies, typed field access with
// clear 400 messages, and JSON responses.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.h"
#include "http/message.h"

namespace polaris::http {

// Parses a request body that must be a JSON object (depth-limited, strict UTF-8).
Result<boost::json::object> ParseObjectBody(std::string_view body);
Result<std::string> RequireString(const boost::json::object& obj, std::string_view key);
// Missing or null gives nullopt; any other non-string is a 400.
Result<std::optional<std::string>> OptionalString(const boost::json::object& obj,
                                                  std::string_view key);

Response Json(int status, const boost::json::value& body);
Response ErrorResponse(const Error& error);
Response ErrorResponse(int status, std::string_view message);
int StatusFor(ErrorCode code);
inline Response Success() {
  return Json(200, boost::json::object{{"success", true}});
}

}  // namespace polaris::http
