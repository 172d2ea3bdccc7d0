#include "domain/env.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace polaris {
namespace {

constexpr const char* kVar = "POLARIS_ENV_TEST_VALUE";

class EnvTest : public ::testing::Test {
 protected:
  void TearDown() override { unsetenv(kVar); }
};

TEST_F(EnvTest, UnsetAndEmptyAreTheSame) {
  unsetenv(kVar);
  EXPECT_FALSE(EnvString(kVar));
  setenv(kVar, "", 1);
  EXPECT_FALSE(EnvString(kVar));
  auto v = EnvInteger(kVar);
  ASSERT_TRUE(v);
  EXPECT_FALSE(*v);
  EXPECT_EQ(*EnvIntegerIn(kVar, 42, 1, 100), 42);
}

TEST_F(EnvTest, WholeNumbersAreRead) {
  setenv(kVar, "250", 1);
  EXPECT_EQ(EnvString(kVar), "250");
  EXPECT_EQ(**EnvInteger(kVar), 250);
  setenv(kVar, "-7", 1);
  EXPECT_EQ(**EnvInteger(kVar), -7);
}

TEST_F(EnvTest, AnythingElseIsAnErrorNamingTheVariable) {
  for (const char* bad : {"abc", "12ms", " 5", "5 ", "1.5", "0x10", "99999999999999999999"}) {
    setenv(kVar, bad, 1);
    auto v = EnvInteger(kVar);
    ASSERT_FALSE(v) << bad;
    EXPECT_NE(v.error().message.find(kVar), std::string::npos) << v.error().message;
    EXPECT_FALSE(EnvIntegerIn(kVar, 1, 0, 10)) << bad;
  }
}

TEST_F(EnvTest, DocumentedRangesClamp) {
  setenv(kVar, "60000", 1);
  EXPECT_EQ(*EnvIntegerIn(kVar, 100, 10, 1000), 1000);
  setenv(kVar, "1", 1);
  EXPECT_EQ(*EnvIntegerIn(kVar, 100, 10, 1000), 10);
  setenv(kVar, "500", 1);
  EXPECT_EQ(*EnvIntegerIn(kVar, 100, 10, 1000), 500);
}

}  // namespace
}  // namespace polaris
