#pragma once
// Run leases: which process executes a run, and until when. Several processes may share one
// PostgreSQL database; a run belongs to the process holding its lease, which renews it while
// the run is queued or executing there (RunManager's heartbeat). Once a lease has expired
// (its process died), any process may take the run over. Set once at start.
#include <string>

#include "domain/types.h"

namespace polaris {

struct RunLeaseConfig {
  std::string owner;        // this process, unique per start
  Millis duration = 10000;  // POLARIS_RUN_LEASE_MS
};

const RunLeaseConfig& CurrentRunLease();
void SetRunLease(RunLeaseConfig config);
// A name for this process that no other start shares: host, pid and random bits.
std::string NewProcessName();

// Gives the run to this process for one lease period from now.
inline void HoldLease(Run& run, Millis now) {
  run.lease_owner = CurrentRunLease().owner;
  run.lease_expires_at = now + CurrentRunLease().duration;
}
// Whether this process may start an attempt of the run: it holds the lease, or the lease has
// expired (its holder stopped renewing it).
inline bool MayClaim(const Run& run, Millis now) {
  return run.lease_owner == CurrentRunLease().owner || run.lease_expires_at < now;
}

}  // namespace polaris
