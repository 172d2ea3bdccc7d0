#include "domain/run_lease.h"

#include <unistd.h>

#include <cstdio>

#include "domain/ids.h"

namespace polaris {
namespace {
RunLeaseConfig& Config() {
  static RunLeaseConfig config{NewProcessName(), 10000};
  return config;
}
}  // namespace

const RunLeaseConfig& CurrentRunLease() {
  return Config();
}

void SetRunLease(RunLeaseConfig config) {
  Config() = std::move(config);
}

std::string NewProcessName() {
  char host[64] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  unsigned char bits[4];
  SecureRandom(bits, sizeof bits);
  char name[128];
  std::snprintf(name, sizeof name, "%s:%d:%02x%02x%02x%02x", host, static_cast<int>(getpid()),
                bits[0], bits[1], bits[2], bits[3]);
  return name;
}

}  // namespace polaris
