#include "auth/secret.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <thread>
#include <vector>

#include "auth/jwt.h"
#include "auth_test_util.h"

namespace polaris {
namespace {

constexpr char kEnv[] = "POLARIS_JWT_SECRET";

class AuthSecret : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv(kEnv); }
  void TearDown() override { ::unsetenv(kEnv); }
  auth_test::TempDir tmp_;
};

mode_t Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST_F(AuthSecret, CreatesPrivateFileOnceAndReusesIt) {
  std::string data_dir = tmp_.path() + "/a/b";
  auto first = ResolveHsSecret(data_dir);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->size(), 64u);
  EXPECT_EQ(first->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(Mode(data_dir + "/jwt_secret"), 0600u);
  EXPECT_EQ(Mode(data_dir), 0700u);
  EXPECT_EQ(Mode(tmp_.path() + "/a"), 0700u);

  auto second = ResolveHsSecret(data_dir);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);

  auto other = ResolveHsSecret(tmp_.path() + "/other");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *first);
}

TEST_F(AuthSecret, EnvironmentOverridesFile) {
  auto from_file = ResolveHsSecret(tmp_.path());
  ASSERT_TRUE(from_file.ok());
  ::setenv(kEnv, "env-secret", 1);
  auto from_env = ResolveHsSecret(tmp_.path());
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(*from_env, "env-secret");
  ::setenv(kEnv, "", 1);  // empty means unset
  EXPECT_EQ(*ResolveHsSecret(tmp_.path()), *from_file);
}

TEST_F(AuthSecret, EnvironmentNeedsNoDataDir) {
  ::setenv(kEnv, "env-only", 1);
  std::string data_dir = tmp_.path() + "/never-created";
  EXPECT_EQ(*ResolveHsSecret(data_dir), "env-only");
  struct stat st {};
  EXPECT_NE(::stat(data_dir.c_str(), &st), 0);
}

TEST_F(AuthSecret, ReadsExistingFileIgnoringTrailingNewline) {
  auth_test::WriteFile(tmp_.path() + "/jwt_secret", "hand-written\n");
  EXPECT_EQ(*ResolveHsSecret(tmp_.path()), "hand-written");
}

TEST_F(AuthSecret, ConcurrentFirstCallsAgree) {
  std::string data_dir = tmp_.path() + "/race";
  std::vector<std::string> results(8);
  std::vector<std::thread> threads;
  for (auto& out : results) {
    threads.emplace_back([&out, &data_dir] {
      auto r = ResolveHsSecret(data_dir);
      out = r.ok() ? *r : "error";
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r, results[0]);
  EXPECT_EQ(results[0].size(), 64u);
}

TEST_F(AuthSecret, SharedSecretIssuesAndVerifies) {
  auto secret = ResolveHsSecret(tmp_.path());
  ASSERT_TRUE(secret.ok());
  std::string token = IssueHs256Token(*secret, "cli-user", 1'700'000'000, 60);  // polaris token
  auto verifier = TokenVerifier::Create({*ResolveHsSecret(tmp_.path()), "", {}, {}});  // serve
  ASSERT_TRUE(verifier.ok());
  EXPECT_EQ(*(*verifier)->Verify(token, 1'700'000'000), "cli-user");
}

}  // namespace
}  // namespace polaris
