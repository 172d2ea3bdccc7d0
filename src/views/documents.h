#pragma once
// Documents as clients see them (README, "API walk-through"): domain values to JSON.
#include <boost/json/value.hpp>
#include <vector>

#include "domain/types.h"

namespace polaris::views {

boost::json::value ToJson(const Project& p);
boost::json::value ToJson(const Conversation& c);
boost::json::value ToJson(const FileNode& f);
boost::json::value ToJson(const Message& m);
boost::json::value ToJson(const Run& r);  // GET /api/runs/:id

template <class T>
boost::json::value ToJsonArray(const std::vector<T>& items) {
  boost::json::array out;
  out.reserve(items.size());
  for (const auto& item : items) out.push_back(ToJson(item));
  return out;
}

}  // namespace polaris::views
