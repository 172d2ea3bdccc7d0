#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "auth/jwt.h"
#include "auth_test_util.h"

namespace polaris {
namespace {

namespace json = boost::json;
using auth_test::Claims;
using auth_test::Hs256;
using auth_test::SignEs256;
using auth_test::SigningInput;
using auth_test::SignSha256;
using auth_test::Token;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr char kHsSecret[] = "server-side-hs256-secret";

std::string Header(std::string_view alg, std::string_view kid = "") {
  json::object h{{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) h["kid"] = kid;
  return json::serialize(h);
}

class AuthJwtAsymmetric : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = auth_test::GenerateRsa().release();
    rsa_other_ = auth_test::GenerateRsa().release();
    ec_ = auth_test::GenerateEcP256().release();
    ec_other_ = auth_test::GenerateEcP256().release();
  }
  static void TearDownTestSuite() {
    for (EVP_PKEY* k : {rsa_, rsa_other_, ec_, ec_other_}) EVP_PKEY_free(k);
  }

  // Verifier trusting rsa_ (kid "rsa-1") and ec_ (kid "ec-1").
  std::unique_ptr<TokenVerifier> MakeVerifier(std::string hs_secret = kHsSecret) {
    std::string path = dir_.path() + "/jwks.json";
    auth_test::WriteFile(path, auth_test::JwksJson({auth_test::RsaJwk(rsa_, "rsa-1"),
                                                    auth_test::EcJwk(ec_, "ec-1")}));
    auto v = TokenVerifier::Create({std::move(hs_secret), path, {}, {}});
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
    return v.ok() ? std::move(v.value()) : nullptr;
  }

  static std::string SignRs(EVP_PKEY* key, std::string_view kid, std::string_view payload) {
    std::string input = SigningInput(Header("RS256", kid), payload);
    return Token(input, SignSha256(key, input));
  }
  static std::string SignEs(EVP_PKEY* key, std::string_view kid, std::string_view payload) {
    std::string input = SigningInput(Header("ES256", kid), payload);
    return Token(input, SignEs256(key, input));
  }

  static EVP_PKEY* rsa_;
  static EVP_PKEY* rsa_other_;
  static EVP_PKEY* ec_;
  static EVP_PKEY* ec_other_;
  auth_test::TempDir dir_;
};

EVP_PKEY* AuthJwtAsymmetric::rsa_ = nullptr;
EVP_PKEY* AuthJwtAsymmetric::rsa_other_ = nullptr;
EVP_PKEY* AuthJwtAsymmetric::ec_ = nullptr;
EVP_PKEY* AuthJwtAsymmetric::ec_other_ = nullptr;

void ExpectUnauthorized(const Result<std::string>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
}

TEST_F(AuthJwtAsymmetric, Rs256VerifiesWithAndWithoutKid) {
  auto verifier = MakeVerifier();
  auto sub = verifier->Verify(SignRs(rsa_, "rsa-1", Claims("rs-user", kNow + 60)), kNow);
  ASSERT_TRUE(sub.ok()) << sub.error().message;
  EXPECT_EQ(*sub, "rs-user");
  EXPECT_TRUE(verifier->Verify(SignRs(rsa_, "", Claims("u", kNow + 60)), kNow).ok());
}

TEST_F(AuthJwtAsymmetric, Es256VerifiesWithAndWithoutKid) {
  auto verifier = MakeVerifier();
  auto sub = verifier->Verify(SignEs(ec_, "ec-1", Claims("es-user", kNow + 60)), kNow);
  ASSERT_TRUE(sub.ok()) << sub.error().message;
  EXPECT_EQ(*sub, "es-user");
  EXPECT_TRUE(verifier->Verify(SignEs(ec_, "", Claims("u", kNow + 60)), kNow).ok());
}

TEST_F(AuthJwtAsymmetric, RejectsWrongOrUnknownKid) {
  auto verifier = MakeVerifier();
  ExpectUnauthorized(verifier->Verify(SignRs(rsa_, "ec-1", Claims("u", kNow + 60)), kNow));
  ExpectUnauthorized(verifier->Verify(SignRs(rsa_, "nope", Claims("u", kNow + 60)), kNow));
  ExpectUnauthorized(verifier->Verify(SignEs(ec_, "rsa-1", Claims("u", kNow + 60)), kNow));
}

TEST_F(AuthJwtAsymmetric, RejectsUntrustedKeys) {
  auto verifier = MakeVerifier();
  ExpectUnauthorized(verifier->Verify(SignRs(rsa_other_, "rsa-1", Claims("u", kNow + 60)), kNow));
  ExpectUnauthorized(verifier->Verify(SignRs(rsa_other_, "", Claims("u", kNow + 60)), kNow));
  ExpectUnauthorized(verifier->Verify(SignEs(ec_other_, "ec-1", Claims("u", kNow + 60)), kNow));
  ExpectUnauthorized(verifier->Verify(SignEs(ec_other_, "", Claims("u", kNow + 60)), kNow));
}

TEST_F(AuthJwtAsymmetric, RejectsTamperedTokens) {
  auto verifier = MakeVerifier();
  for (std::string token : {SignRs(rsa_, "rsa-1", Claims("alice", kNow + 60)),
                            SignEs(ec_, "ec-1", Claims("alice", kNow + 60))}) {
    std::size_t dot1 = token.find('.');
    std::size_t dot2 = token.find('.', dot1 + 1);
    std::string forged = token.substr(0, dot1 + 1) + Base64UrlEncode(Claims("admin", kNow + 60)) +
                         token.substr(dot2);
    ExpectUnauthorized(verifier->Verify(forged, kNow));
    std::string bad_sig = token;
    bad_sig[dot2 + 5] = bad_sig[dot2 + 5] == 'A' ? 'B' : 'A';
    ExpectUnauthorized(verifier->Verify(bad_sig, kNow));
  }
}

TEST_F(AuthJwtAsymmetric, Es256RequiresRawSignature) {
  auto verifier = MakeVerifier();
  std::string input = SigningInput(Header("ES256", "ec-1"), Claims("u", kNow + 60));
  ExpectUnauthorized(verifier->Verify(Token(input, SignSha256(ec_, input)), kNow));  // DER form
  std::string raw = SignEs256(ec_, input);
  ExpectUnauthorized(verifier->Verify(Token(input, raw.substr(0, 63)), kNow));
  ExpectUnauthorized(verifier->Verify(Token(input, raw + '\0'), kNow));
  ExpectUnauthorized(verifier->Verify(Token(input, std::string(64, '\0')), kNow));
}

TEST_F(AuthJwtAsymmetric, AlgorithmMustMatchKeyType) {
  auto verifier = MakeVerifier();
  std::string input = SigningInput(Header("ES256"), Claims("u", kNow + 60));
  ExpectUnauthorized(verifier->Verify(Token(input, SignSha256(rsa_, input)), kNow));
  input = SigningInput(Header("RS256"), Claims("u", kNow + 60));
  ExpectUnauthorized(verifier->Verify(Token(input, SignEs256(ec_, input)), kNow));
}

TEST_F(AuthJwtAsymmetric, ClaimsStillChecked) {
  auto verifier = MakeVerifier();
  ExpectUnauthorized(verifier->Verify(SignRs(rsa_, "rsa-1", Claims("u", kNow - 31)), kNow));
  ExpectUnauthorized(verifier->Verify(SignEs(ec_, "ec-1", R"({"sub":"u"})"), kNow));
}

// Classic confusion: attacker signs HS256 with the (public) RSA key as the HMAC secret.
TEST_F(AuthJwtAsymmetric, HmacWithPublicKeyPemIsRejected) {
  std::string pem = auth_test::PublicKeyPem(rsa_);
  ASSERT_FALSE(pem.empty());
  std::string input = SigningInput(Header("HS256", "rsa-1"), Claims("u", kNow + 60));
  std::string token = Token(input, Hs256(pem, input));
  ExpectUnauthorized(MakeVerifier()->Verify(token, kNow));
  ExpectUnauthorized(MakeVerifier("")->Verify(token, kNow));  // HS256 disabled entirely
}

TEST_F(AuthJwtAsymmetric, Rs256HeaderIsNeverVerifiedWithHmac) {
  auto verifier = MakeVerifier();
  for (std::string_view alg : {"RS256", "ES256"}) {
    for (std::string_view kid : {"", "rsa-1", "ec-1"}) {
      std::string input = SigningInput(Header(alg, kid), Claims("u", kNow + 60));
      ExpectUnauthorized(verifier->Verify(Token(input, Hs256(kHsSecret, input)), kNow));
      std::string pem = auth_test::PublicKeyPem(rsa_);
      ExpectUnauthorized(verifier->Verify(Token(input, Hs256(pem, input)), kNow));
    }
  }
}

TEST_F(AuthJwtAsymmetric, HsAndJwksWorkSideBySide) {
  auto verifier = MakeVerifier();
  EXPECT_TRUE(verifier->Verify(IssueHs256Token(kHsSecret, "h", kNow, 60), kNow).ok());
  EXPECT_TRUE(verifier->Verify(SignRs(rsa_, "rsa-1", Claims("r", kNow + 60)), kNow).ok());
}

TEST_F(AuthJwtAsymmetric, VerifyIsThreadSafe) {
  auto verifier = MakeVerifier();
  std::vector<std::string> good = {SignRs(rsa_, "rsa-1", Claims("u", kNow + 60)),
                                   SignEs(ec_, "", Claims("u", kNow + 60)),
                                   IssueHs256Token(kHsSecret, "u", kNow, 60)};
  std::string bad = SignRs(rsa_other_, "", Claims("u", kNow + 60));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        for (const auto& token : good) {
          if (!verifier->Verify(token, kNow).ok()) ++failures;
        }
        if (verifier->Verify(bad, kNow).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(AuthJwtAsymmetric, CreateFailsOnBadJwksFile) {
  EXPECT_FALSE(TokenVerifier::Create({kHsSecret, dir_.path() + "/missing.json", {}, {}}).ok());
  std::string path = dir_.path() + "/bad.json";
  auth_test::WriteFile(path, "{\"keys\":");
  EXPECT_FALSE(TokenVerifier::Create({kHsSecret, path, {}, {}}).ok());
  auth_test::WriteFile(path, R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})");  // nothing usable
  EXPECT_FALSE(TokenVerifier::Create({kHsSecret, path, {}, {}}).ok());
  EXPECT_FALSE(TokenVerifier::Create({kHsSecret, dir_.path(), {}, {}}).ok());  // a directory
}

}  // namespace
}  // namespace polaris
