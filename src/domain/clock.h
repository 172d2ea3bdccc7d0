#pragma once
#include <chrono>

#include "domain/types.h"

namespace polaris {

inline Millis NowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace polaris
