#pragma once
// The Convex functions this server exposes (README, "Live updates"): queries and mutations
// by their udf path, with the original app's names as aliases. Each runs synchronously inside
// one store transaction on a store thread, over the services layer.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"
#include "domain/types.h"
#include "store/repo.h"

namespace polaris::realtime {

enum class FunctionKind { kQuery, kMutation };

struct FunctionContext {
  Repo& repo;
  const std::string& user;  // the token's sub; empty when the caller is not authenticated
  Millis now;
  // The query's result goes to a Convex client: tool-call values whose keys a Convex client
  // would refuse are sent as their JSON text. Off for SSE, which sends plain JSON.
  bool convex_safe = true;
};

using FunctionBody = Result<boost::json::value> (*)(FunctionContext&, const boost::json::object&);

struct Function {
  FunctionKind kind;
  FunctionBody run;
};

// "module:name" with ":default" added when there is no ':' and a ".js" module suffix dropped,
// as the convex client does for queries.
std::string CanonicalUdfPath(std::string_view udf_path);
// nullptr for an unknown function. Takes a canonical path.
const Function* FindFunction(std::string_view canonical_path);
// The function at udf_path (canonicalised here) when it exists and is of this kind.
const Function* FindFunction(std::string_view udf_path, FunctionKind kind);
// What a caller of a missing function (or one of the other kind) is told.
std::string UnknownFunctionError(std::string_view udf_path);
// Function arguments as clients send them: `[{...}]` (the sync protocol), `{...}`
// (/api/function), `[]` or absent (no arguments). nullopt for anything else.
std::optional<boost::json::object> ArgsFromWire(const boost::json::value* args);

}  // namespace polaris::realtime
