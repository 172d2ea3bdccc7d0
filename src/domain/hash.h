#pragma once
// FNV-1a, 64 bits: a small non-cryptographic hash that is the same in every process and
// build (std::hash is not), for values that are stored or compared across processes.
#include <cstdint>
#include <string_view>

namespace polaris {

class Fnv1a {
 public:
  Fnv1a& Add(std::string_view bytes) {
    for (unsigned char c : bytes) {
      h_ ^= c;
      h_ *= 1099511628211ull;
    }
    return *this;
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 1469598103934665603ull;
};

}  // namespace polaris
