#include "domain/run_lease.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <set>
#include <string>

namespace polaris {
namespace {

// The lease config is process-wide: each test sets its own and puts the original back, so no
// other test sees it.
class DomainRunLease : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = CurrentRunLease(); }
  void TearDown() override { SetRunLease(saved_); }
  RunLeaseConfig saved_;
};

polaris::Run LeasedRun(const std::string& owner, Millis expires_at) {
  polaris::Run r;
  r.id = "run_x";
  r.lease_owner = owner;
  r.lease_expires_at = expires_at;
  return r;
}

TEST_F(DomainRunLease, DefaultIsAProcessNameAndTenSeconds) {
  // Nothing in the unit tests changes it for good (every test restores it).
  EXPECT_FALSE(saved_.owner.empty());
  EXPECT_NE(saved_.owner.find(":" + std::to_string(getpid()) + ":"), std::string::npos)
      << saved_.owner;
  EXPECT_EQ(saved_.duration, 10000);
}

TEST_F(DomainRunLease, SetRunLeaseReplacesTheConfig) {
  SetRunLease({"proc-a", 2500});
  EXPECT_EQ(CurrentRunLease().owner, "proc-a");
  EXPECT_EQ(CurrentRunLease().duration, 2500);
}

TEST_F(DomainRunLease, HoldLeaseGivesTheRunToThisProcessForOnePeriod) {
  SetRunLease({"proc-a", 5000});
  polaris::Run r = LeasedRun("proc-b", 100);
  r.status = RunStatus::kExecuting;
  r.attempt = 3;
  HoldLease(r, 1000);
  EXPECT_EQ(r.lease_owner, "proc-a");
  EXPECT_EQ(r.lease_expires_at, 6000);
  // Nothing else about the run changes.
  EXPECT_EQ(r.status, RunStatus::kExecuting);
  EXPECT_EQ(r.attempt, 3);
  // Holding again moves the expiry on from the new time.
  HoldLease(r, 2000);
  EXPECT_EQ(r.lease_expires_at, 7000);
}

TEST_F(DomainRunLease, MayClaimItsOwnLeaseExpiredOrNot) {
  SetRunLease({"proc-a", 5000});
  EXPECT_TRUE(MayClaim(LeasedRun("proc-a", 9000), 1000));
  EXPECT_TRUE(MayClaim(LeasedRun("proc-a", 500), 1000));
}

TEST_F(DomainRunLease, MayClaimAnotherProcessesLeaseOnlyOnceExpired) {
  SetRunLease({"proc-a", 5000});
  EXPECT_FALSE(MayClaim(LeasedRun("proc-b", 9000), 1000));
  // Expired means before now: at exactly its expiry the lease still holds.
  EXPECT_FALSE(MayClaim(LeasedRun("proc-b", 1000), 1000));
  EXPECT_TRUE(MayClaim(LeasedRun("proc-b", 999), 1000));
}

TEST_F(DomainRunLease, MayClaimARunNobodyHolds) {
  SetRunLease({"proc-a", 5000});
  // A run as inserted before leases existed: no owner, expired since the epoch.
  EXPECT_TRUE(MayClaim(LeasedRun("", 0), 1));
}

TEST_F(DomainRunLease, AHeldLeaseKeepsOtherProcessesOutUntilItExpires) {
  SetRunLease({"proc-a", 5000});
  polaris::Run r;
  HoldLease(r, 1000);  // expires at 6000
  SetRunLease({"proc-b", 5000});
  EXPECT_FALSE(MayClaim(r, 1000));
  EXPECT_FALSE(MayClaim(r, 6000));
  EXPECT_TRUE(MayClaim(r, 6001));
  HoldLease(r, 6001);
  EXPECT_EQ(r.lease_owner, "proc-b");
  SetRunLease({"proc-a", 5000});
  EXPECT_FALSE(MayClaim(r, 6002));  // taken over: the old holder stays out
}

TEST_F(DomainRunLease, NewProcessNameIsHostPidAndRandomBits) {
  const std::string name = NewProcessName();
  const auto last = name.rfind(':');
  ASSERT_NE(last, std::string::npos) << name;
  const auto middle = name.rfind(':', last - 1);
  ASSERT_NE(middle, std::string::npos) << name;
  char host[64] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(name.substr(0, middle), host);
  EXPECT_EQ(name.substr(middle + 1, last - middle - 1), std::to_string(getpid()));
  const std::string bits = name.substr(last + 1);
  ASSERT_EQ(bits.size(), 8u) << name;
  for (char c : bits) {
    EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)) &&
                !std::isupper(static_cast<unsigned char>(c)))
        << name;
  }
}

TEST_F(DomainRunLease, NewProcessNameDiffersPerCall) {
  // Two starts of the same pid on the same host (a container restarting) must not share it.
  std::set<std::string> names;
  for (int i = 0; i < 100; ++i) names.insert(NewProcessName());
  EXPECT_EQ(names.size(), 100u);
}

}  // namespace
}  // namespace polaris
