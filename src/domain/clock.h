#pragma once
#include <chrono>

#include "domain/types.h"

namespace polaris {

// The wall clock, in the units the code base keeps times in: stored documents and leases in
// milliseconds, token expiries (JWT NumericDate) in seconds.
inline Millis NowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
inline double NowSeconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace polaris
