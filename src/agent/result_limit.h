#pragma once
// Bounds a tool result before it enters the transcript and the message: a read of a large
// file or a listing of a large project must not grow every later request and write.
#include <boost/json/object.hpp>
#include <cstddef>

namespace polaris::agent {

// Returns result unchanged when it serializes to at most max_bytes. Otherwise cuts what
// makes it large (a file's content at a character boundary, the tail of a list) and says so
// in "truncated": true and a "note" the model reads; the result stays close to max_bytes.
boost::json::object LimitToolResult(boost::json::object result, std::size_t max_bytes);

}  // namespace polaris::agent
