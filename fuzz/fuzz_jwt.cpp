// Bearer tokens and key sets through src/auth: TokenVerifier::VerifyClaims with an HS256 secret
// and a JWKS holding an RSA and a P-256 key (as Create loads them from POLARIS_JWKS_FILE),
// ParseJwks on arbitrary documents, Base64UrlDecode.
//
// Input: byte 0 picks the mode, the rest is its data.
//   0: the rest is a compact token, verified as is (nearly always refused at the signature).
//   1, 2, 3: the rest is "header JSON \n payload JSON"; the harness signs it with HS256, RS256
//      or ES256 (keys made at start-up), so the claim checks (exp, nbf, sub, iss, aud, alg,
//      kid, crit) see arbitrary JSON behind a valid signature.
//   4: the rest is a JWKS document for ParseJwks; when it yields keys, a verifier is created
//      from it through a file, as the server does, and checks a token.
//   5: Base64UrlDecode / Base64UrlEncode round trips.
// Checked besides sanitizers: a token signed with a key the verifier does not hold is never
// accepted; a decoded base64url string encodes back to its unpadded self.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "auth/base64url.h"
#include "auth/jwks.h"
#include "auth/jwt.h"

using namespace polaris;

namespace {

constexpr char kSecret[] = "fuzz-hs256-secret-0123456789abcdef";
constexpr std::int64_t kNow = 1700000000;

struct Keys {
  EvpPkeyPtr rsa;
  EvpPkeyPtr ec;
  EvpPkeyPtr other_ec;  // not in the JWKS: its signatures must never verify
  std::unique_ptr<TokenVerifier> verifier;
  std::unique_ptr<TokenVerifier> strict;  // with issuer and audience
  std::string jwks_path;
};

std::string BnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) std::abort();
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}
std::string PaddedBn(EVP_PKEY* key, const char* name, std::size_t width) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) std::abort();
  std::string out(width, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(width));
  BN_free(bn);
  return out;
}

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/polaris_fuzz_jwks_XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) std::abort();
  ::close(fd);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

Keys& GetKeys() {
  static Keys* keys = [] {
    auto* k = new Keys;
    k->rsa.reset(EVP_RSA_gen(2048));
    k->ec.reset(EVP_EC_gen("P-256"));
    k->other_ec.reset(EVP_EC_gen("P-256"));
    if (!k->rsa || !k->ec || !k->other_ec) std::abort();
    const std::string jwks =
        std::string(R"({"keys":[{"kty":"RSA","kid":"rsa1","alg":"RS256","use":"sig","n":")") +
        Base64UrlEncode(BnParam(k->rsa.get(), OSSL_PKEY_PARAM_RSA_N)) + R"(","e":")" +
        Base64UrlEncode(BnParam(k->rsa.get(), OSSL_PKEY_PARAM_RSA_E)) +
        R"("},{"kty":"EC","crv":"P-256","kid":"ec1","x":")" +
        Base64UrlEncode(PaddedBn(k->ec.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32)) + R"(","y":")" +
        Base64UrlEncode(PaddedBn(k->ec.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32)) + R"("}]})";
    k->jwks_path = WriteTemp(jwks);
    auto v = TokenVerifier::Create(AuthConfig{kSecret, k->jwks_path, {}, {}});
    auto s = TokenVerifier::Create(
        AuthConfig{kSecret, k->jwks_path, std::string("issuer"), std::string("aud")});
    if (!v.ok() || !s.ok()) {
      std::fprintf(stderr, "fuzz: no verifier: %s\n", v.ok() ? "" : v.error().message.c_str());
      std::abort();
    }
    k->verifier = std::move(v.value());
    k->strict = std::move(s.value());
    return k;
  }();
  return *keys;
}

std::string Hs256(std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t len = sizeof mac;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, kSecret, sizeof kSecret - 1,
                reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac,
                &len) == nullptr) {
    std::abort();
  }
  return std::string(reinterpret_cast<char*>(mac), len);
}

std::string Sign(EVP_PKEY* key, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t len = 0;
  if (EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    std::abort();
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    std::abort();
  }
  sig.resize(len);
  return sig;
}

// DER ECDSA-Sig-Value -> JOSE r||s (32 bytes each).
std::string DerToJose(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) std::abort();
  std::string out(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return out;
}

void Verify(const Keys& k, std::string_view token) {
  (void)k.verifier->VerifyClaims(token, kNow);
  (void)k.strict->VerifyClaims(token, kNow);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Keys& k = GetKeys();
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      Verify(k, rest);
      break;
    case 1:
    case 2:
    case 3: {
      const std::size_t nl = rest.find('\n');
      const std::string_view header = rest.substr(0, nl);
      const std::string_view payload = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
      const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
      std::string sig;
      if (data[0] % 6 == 1) sig = Hs256(input);
      if (data[0] % 6 == 2) sig = Sign(k.rsa.get(), input);
      if (data[0] % 6 == 3) sig = DerToJose(Sign(k.ec.get(), input));
      Verify(k, input + "." + Base64UrlEncode(sig));
      // The same token signed by a P-256 key outside the JWKS: never accepted.
      const std::string forged =
          input + "." + Base64UrlEncode(DerToJose(Sign(k.other_ec.get(), input)));
      if (k.verifier->VerifyClaims(forged, kNow).ok()) {
        std::fprintf(stderr, "fuzz: a token signed by an unknown key was accepted\n");
        std::abort();
      }
      break;
    }
    case 4: {
      auto jwks = ParseJwks(rest);
      if (jwks.ok() && !jwks->keys.empty()) {
        const std::string path = WriteTemp(std::string(rest));
        auto v = TokenVerifier::Create(AuthConfig{"", path, {}, {}});
        ::unlink(path.c_str());
        if (!v.ok()) {
          std::fprintf(stderr, "fuzz: ParseJwks accepted what Create refuses: %s\n",
                       v.error().message.c_str());
          std::abort();
        }
        const std::string input = Base64UrlEncode(R"({"alg":"ES256"})") + "." +
                                  Base64UrlEncode(R"({"sub":"u","exp":1800000000})");
        (void)v.value()->VerifyClaims(input + "." + Base64UrlEncode(std::string(64, 'x')), kNow);
      }
      break;
    }
    case 5: {
      auto decoded = Base64UrlDecode(rest);
      if (decoded) {
        std::string_view unpadded = rest;
        while (!unpadded.empty() && unpadded.back() == '=') unpadded.remove_suffix(1);
        if (Base64UrlEncode(*decoded) != unpadded) {
          std::fprintf(stderr, "fuzz: Base64UrlDecode accepted a non-canonical encoding\n");
          std::abort();
        }
      }
      auto back = Base64UrlDecode(Base64UrlEncode(rest));
      if (!back || *back != rest) {
        std::fprintf(stderr, "fuzz: Base64Url round trip failed\n");
        std::abort();
      }
      break;
    }
  }
  return 0;
}
