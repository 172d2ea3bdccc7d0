#include "auth/jwks.h"

#include <gtest/gtest.h>

#include "auth_test_util.h"

namespace polaris {
namespace {

namespace json = boost::json;

TEST(AuthJwks, ParsesRsaAndEcKeysWithMetadata) {
  auto rsa = auth_test::GenerateRsa();
  auto ec = auth_test::GenerateEcP256();
  json::object rsa_jwk = auth_test::RsaJwk(rsa.get(), "r1");
  rsa_jwk["alg"] = "RS256";
  rsa_jwk["use"] = "sig";
  auto jwks = ParseJwks(auth_test::JwksJson({rsa_jwk, auth_test::EcJwk(ec.get(), "")}));
  ASSERT_TRUE(jwks.ok()) << jwks.error().message;
  ASSERT_EQ(jwks->keys.size(), 2u);
  EXPECT_EQ(jwks->keys[0].type, JwkType::kRsa);
  EXPECT_EQ(jwks->keys[0].kid, "r1");
  EXPECT_EQ(jwks->keys[0].alg, "RS256");
  EXPECT_EQ(jwks->keys[0].use, "sig");
  EXPECT_EQ(EVP_PKEY_eq(jwks->keys[0].key.get(), rsa.get()), 1);
  EXPECT_EQ(jwks->keys[1].type, JwkType::kEcP256);
  EXPECT_FALSE(jwks->keys[1].kid.has_value());
  EXPECT_EQ(EVP_PKEY_eq(jwks->keys[1].key.get(), ec.get()), 1);
}

TEST(AuthJwks, SkipsUnsupportedKeyTypes) {
  auto jwks = ParseJwks(R"({"keys":[
      {"kty":"oct","k":"c2VjcmV0"},
      {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
      {"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]})");
  ASSERT_TRUE(jwks.ok());
  EXPECT_TRUE(jwks->keys.empty());
}

TEST(AuthJwks, RejectsMalformedDocuments) {
  for (const char* doc :
       {"", "[]", "{}", R"({"keys":{}})", R"({"keys":[1]})", R"({"keys":[{"n":"AQAB"}]})",
        R"({"keys":[{"kty":"RSA","n":"AQAB"}]})", R"({"keys":[{"kty":"RSA","n":"@@","e":"AQAB"}]})",
        R"({"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]})"}) {
    EXPECT_FALSE(ParseJwks(doc).ok()) << doc;
  }
}

TEST(AuthJwks, RejectsWeakRsaAndOffCurvePoints) {
  auto small = EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  EXPECT_FALSE(ParseJwks(auth_test::JwksJson({auth_test::RsaJwk(small.get(), "")})).ok());

  auto ec = auth_test::GenerateEcP256();
  json::object jwk = auth_test::EcJwk(ec.get(), "");
  std::string y = *Base64UrlDecode(jwk["y"].as_string());
  y[31] ^= 1;  // (x, y') is not on the curve
  jwk["y"] = Base64UrlEncode(y);
  EXPECT_FALSE(ParseJwks(auth_test::JwksJson({jwk})).ok());
}

TEST(AuthJwks, LoadsFromFile) {
  auth_test::TempDir dir;
  auto ec = auth_test::GenerateEcP256();
  std::string path = dir.path() + "/jwks.json";
  auth_test::WriteFile(path, auth_test::JwksJson({auth_test::EcJwk(ec.get(), "k")}));
  auto jwks = LoadJwksFile(path);
  ASSERT_TRUE(jwks.ok());
  EXPECT_EQ(jwks->keys.size(), 1u);
  EXPECT_FALSE(LoadJwksFile(dir.path() + "/nope.json").ok());
}

}  // namespace
}  // namespace polaris
