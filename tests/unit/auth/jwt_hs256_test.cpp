#include <gtest/gtest.h>

#include "auth/jwt.h"
#include "auth_test_util.h"

namespace polaris {
namespace {

namespace json = boost::json;
using auth_test::Claims;
using auth_test::Hs256;
using auth_test::SigningInput;
using auth_test::Token;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
constexpr char kHeader[] = R"({"alg":"HS256","typ":"JWT"})";

std::unique_ptr<TokenVerifier> MakeVerifier(std::optional<std::string> issuer = {},
                                            std::optional<std::string> audience = {}) {
  auto v = TokenVerifier::Create({kSecret, "", std::move(issuer), std::move(audience)});
  EXPECT_TRUE(v.ok());
  return v.ok() ? std::move(v.value()) : nullptr;
}

std::string SignHs(std::string_view header, std::string_view payload,
                   std::string_view secret = kSecret) {
  std::string input = SigningInput(header, payload);
  return Token(input, Hs256(secret, input));
}

void ExpectUnauthorized(const Result<std::string>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized);
  EXPECT_FALSE(r.error().message.empty());
}

TEST(AuthJwtHs256, IssuedTokenVerifies) {
  auto verifier = MakeVerifier();
  std::string token = IssueHs256Token(kSecret, "user-1", kNow, 3600);
  auto sub = verifier->Verify(token, kNow + 10);
  ASSERT_TRUE(sub.ok()) << sub.error().message;
  EXPECT_EQ(*sub, "user-1");
}

TEST(AuthJwtHs256, CreateNeedsSomeKey) {
  EXPECT_FALSE(TokenVerifier::Create({}).ok());
  EXPECT_EQ(IssueHs256Token("", "u", kNow, 60), "");
}

TEST(AuthJwtHs256, ExpiryHasThirtySecondLeeway) {
  auto verifier = MakeVerifier();
  std::string token = IssueHs256Token(kSecret, "u", kNow, 60);  // exp = kNow + 60
  EXPECT_TRUE(verifier->Verify(token, kNow + 60).ok());
  EXPECT_TRUE(verifier->Verify(token, kNow + 90).ok());
  auto expired = verifier->Verify(token, kNow + 91);
  ExpectUnauthorized(expired);
  EXPECT_EQ(expired.error().message, "Token expired");
}

TEST(AuthJwtHs256, NotBeforeHasThirtySecondLeeway) {
  auto verifier = MakeVerifier();
  std::string future =
      json::serialize(json::object{{"sub", "u"}, {"exp", kNow + 3600}, {"nbf", kNow + 31}});
  ExpectUnauthorized(verifier->Verify(SignHs(kHeader, future), kNow));
  std::string soon =
      json::serialize(json::object{{"sub", "u"}, {"exp", kNow + 3600}, {"nbf", kNow + 30}});
  EXPECT_TRUE(verifier->Verify(SignHs(kHeader, soon), kNow).ok());
  std::string bad_nbf =
      json::serialize(json::object{{"sub", "u"}, {"exp", kNow + 3600}, {"nbf", "soon"}});
  ExpectUnauthorized(verifier->Verify(SignHs(kHeader, bad_nbf), kNow));
}

TEST(AuthJwtHs256, RequiresSubAndExp) {
  auto verifier = MakeVerifier();
  ExpectUnauthorized(verifier->Verify(SignHs(kHeader, R"({"exp":1800000000})"), kNow));
  ExpectUnauthorized(verifier->Verify(SignHs(kHeader, R"({"sub":"u"})"), kNow));
  ExpectUnauthorized(verifier->Verify(SignHs(kHeader, R"({"sub":"","exp":1800000000})"), kNow));
  ExpectUnauthorized(verifier->Verify(SignHs(kHeader, R"({"sub":7,"exp":1800000000})"), kNow));
  ExpectUnauthorized(verifier->Verify(SignHs(kHeader, R"({"sub":"u","exp":"1800000000"})"), kNow));
  ExpectUnauthorized(verifier->Verify(SignHs(kHeader, R"(["sub","exp"])"), kNow));
  EXPECT_TRUE(verifier->Verify(SignHs(kHeader, R"({"sub":"u","exp":1800000000.5})"), kNow).ok());
}

TEST(AuthJwtHs256, RejectsAlgNone) {
  auto verifier = MakeVerifier();
  std::string payload = Claims("u", kNow + 60);
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    std::string header = json::serialize(json::object{{"alg", alg}, {"typ", "JWT"}});
    std::string input = SigningInput(header, payload);
    ExpectUnauthorized(verifier->Verify(input + ".", kNow));  // unsigned form
    ExpectUnauthorized(verifier->Verify(Token(input, Hs256(kSecret, input)), kNow));
    ExpectUnauthorized(verifier->Verify(Token(input, "x"), kNow));
  }
}

TEST(AuthJwtHs256, RejectsOtherAlgorithmsAndBadHeaders) {
  auto verifier = MakeVerifier();
  std::string payload = Claims("u", kNow + 60);
  for (const char* header :
       {R"({"alg":"hs256"})", R"({"alg":"HS512"})", R"({"alg":"HS256 "})", R"({"alg":null})",
        R"({"typ":"JWT"})", R"(["HS256"])", R"({"alg":"HS256","crit":["exp"]})",
        R"({"alg":"HS256","kid":5})", "not json", R"({"alg":"HS256"} trailing)"}) {
    ExpectUnauthorized(verifier->Verify(SignHs(header, payload), kNow));
  }
}

TEST(AuthJwtHs256, RejectsTamperedPayloadAndWrongSecret) {
  auto verifier = MakeVerifier();
  std::string token = IssueHs256Token(kSecret, "alice", kNow, 3600);
  std::size_t dot1 = token.find('.');
  std::size_t dot2 = token.find('.', dot1 + 1);
  std::string forged = token.substr(0, dot1 + 1) + Base64UrlEncode(Claims("admin", kNow + 3600)) +
                       token.substr(dot2);
  ExpectUnauthorized(verifier->Verify(forged, kNow));

  std::string flipped = token;
  flipped[dot1 + 3] = flipped[dot1 + 3] == 'A' ? 'B' : 'A';
  ExpectUnauthorized(verifier->Verify(flipped, kNow));

  ExpectUnauthorized(
      verifier->Verify(IssueHs256Token("another-secret-entirely", "alice", kNow, 3600), kNow));
}

TEST(AuthJwtHs256, RejectsMalformedStructure) {
  auto verifier = MakeVerifier();
  std::string token = IssueHs256Token(kSecret, "u", kNow, 3600);
  ExpectUnauthorized(verifier->Verify("", kNow));
  ExpectUnauthorized(verifier->Verify("abc", kNow));
  ExpectUnauthorized(verifier->Verify("a.b", kNow));
  ExpectUnauthorized(verifier->Verify(token + ".", kNow));
  ExpectUnauthorized(verifier->Verify(token + ".x", kNow));
  ExpectUnauthorized(verifier->Verify(token + "=", kNow));
  ExpectUnauthorized(verifier->Verify("..", kNow));
  ExpectUnauthorized(verifier->Verify(" " + token, kNow));
  // Short signatures must not be compared as a prefix.
  ExpectUnauthorized(verifier->Verify(token.substr(0, token.rfind('.') + 5), kNow));
}

TEST(AuthJwtHs256, RejectsOversizedToken) {
  auto verifier = MakeVerifier();
  std::string big_sub(9000, 'a');
  std::string token = IssueHs256Token(kSecret, big_sub, kNow, 3600);
  ASSERT_GT(token.size(), 8192u);
  ExpectUnauthorized(verifier->Verify(token, kNow));
  std::string ok_sub(5000, 'a');
  EXPECT_TRUE(verifier->Verify(IssueHs256Token(kSecret, ok_sub, kNow, 3600), kNow).ok());
}

TEST(AuthJwtHs256, RejectsDeeplyNestedJson) {
  auto verifier = MakeVerifier();
  std::string deep =
      R"({"sub":"u","exp":1800000000,"x":)" + std::string(100, '[') + std::string(100, ']') + "}";
  ExpectUnauthorized(verifier->Verify(SignHs(kHeader, deep), kNow));
}

TEST(AuthJwtHs256, ChecksIssuer) {
  auto verifier = MakeVerifier("https://issuer.example");
  EXPECT_TRUE(
      verifier->Verify(IssueHs256Token(kSecret, "u", kNow, 60, "https://issuer.example"), kNow)
          .ok());
  auto wrong = verifier->Verify(IssueHs256Token(kSecret, "u", kNow, 60, "https://evil"), kNow);
  ExpectUnauthorized(wrong);
  EXPECT_EQ(wrong.error().message, "Invalid token issuer");
  ExpectUnauthorized(verifier->Verify(IssueHs256Token(kSecret, "u", kNow, 60), kNow));
}

TEST(AuthJwtHs256, ChecksAudienceAsStringOrArray) {
  auto verifier = MakeVerifier({}, "polaris");
  EXPECT_TRUE(verifier->Verify(IssueHs256Token(kSecret, "u", kNow, 60, {}, "polaris"), kNow).ok());
  ExpectUnauthorized(verifier->Verify(IssueHs256Token(kSecret, "u", kNow, 60, {}, "other"), kNow));
  ExpectUnauthorized(verifier->Verify(IssueHs256Token(kSecret, "u", kNow, 60), kNow));

  auto with_aud = [&](json::value aud) {
    return SignHs(kHeader, json::serialize(json::object{
                               {"sub", "u"}, {"exp", kNow + 60}, {"aud", std::move(aud)}}));
  };
  EXPECT_TRUE(verifier->Verify(with_aud(json::array{"other", "polaris"}), kNow).ok());
  ExpectUnauthorized(verifier->Verify(with_aud(json::array{"other", "polaris2"}), kNow));
  ExpectUnauthorized(verifier->Verify(with_aud(json::array{}), kNow));
  ExpectUnauthorized(verifier->Verify(with_aud(json::array{json::array{"polaris"}}), kNow));
  ExpectUnauthorized(verifier->Verify(with_aud(42), kNow));
}

TEST(AuthJwtHs256, AudienceIgnoredWhenNotConfigured) {
  auto verifier = MakeVerifier();
  EXPECT_TRUE(
      verifier->Verify(IssueHs256Token(kSecret, "u", kNow, 60, "iss", "anything"), kNow).ok());
}

}  // namespace
}  // namespace polaris
