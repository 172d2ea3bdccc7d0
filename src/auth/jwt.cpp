#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <boost/json.hpp>
#include <cmath>

#include "auth/base64url.h"
#include "json/json_input.h"

namespace polaris {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxTokenBytes = 8 * 1024;
constexpr double kLeewaySeconds = 30;
constexpr int kMaxJsonDepth = 32;  // a token's header and claims are flat
constexpr std::size_t kHs256Bytes = 32;
constexpr std::size_t kEs256CoordBytes = 32;

Error Unauthorized(std::string message) {
  return {ErrorCode::kUnauthorized, std::move(message), {}};
}
Error InvalidToken() {
  return Unauthorized("Invalid token");
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

// Failed verifications leave entries on OpenSSL's per-thread error queue; drop them so they are
// not misattributed to a later TLS call on the same thread.
struct ErrQueueGuard {
  ~ErrQueueGuard() { ERR_clear_error(); }
};

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Parses text that must be a JSON object; nullopt on anything else.
std::optional<json::object> ParseObject(std::string_view text) {
  return json_input::ParseObject(text, kMaxJsonDepth);
}

std::optional<std::string> StringMember(const json::object& obj, std::string_view name) {
  return json_input::StringMember(obj, name);
}

// A NumericDate claim (seconds, integer or fractional).
std::optional<double> NumericMember(const json::object& obj, std::string_view name) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double() && std::isfinite(v->get_double())) return v->get_double();
  return std::nullopt;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), Bytes(data), data.size(),
           mac.data(), &len) == nullptr) {
    ERR_clear_error();
    return {};
  }
  return std::string(reinterpret_cast<const char*>(mac.data()), len);
}

bool VerifyHs256(std::string_view secret, std::string_view input, std::string_view signature) {
  if (secret.empty() || signature.size() != kHs256Bytes) return false;
  std::string expected = HmacSha256(secret, input);
  return expected.size() == kHs256Bytes &&
         CRYPTO_memcmp(expected.data(), signature.data(), kHs256Bytes) == 0;
}

// JOSE carries ECDSA signatures as fixed-width r||s; OpenSSL wants a DER ECDSA-Sig-Value.
std::optional<std::string> JoseToDer(std::string_view signature) {
  if (signature.size() != 2 * kEs256CoordBytes) return std::nullopt;
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(signature), kEs256CoordBytes, nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(signature) + kEs256CoordBytes, kEs256CoordBytes, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != len) return std::nullopt;
  return der;
}

bool DigestVerifySha256(EVP_PKEY* key, std::string_view input, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  return ctx &&
         EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) ==
             1 &&
         EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(input),
                          input.size()) == 1;
}

}  // namespace

TokenVerifier::TokenVerifier(AuthConfig config, Jwks jwks)
    : config_(std::move(config)), jwks_(std::move(jwks)) {}

Result<std::unique_ptr<TokenVerifier>> TokenVerifier::Create(AuthConfig config) {
  Jwks jwks;
  if (!config.jwks_file.empty()) {
    Result<Jwks> loaded = LoadJwksFile(config.jwks_file);
    if (!loaded.ok()) return loaded.error();
    if (loaded->keys.empty()) {
      return Error::Internal("JWKS file has no usable RSA or P-256 key: " + config.jwks_file);
    }
    jwks = std::move(loaded.value());
  }
  if (config.hs_secret.empty() && jwks.keys.empty()) {
    return Error::Internal("No token verification key configured");
  }
  return std::unique_ptr<TokenVerifier>(new TokenVerifier(std::move(config), std::move(jwks)));
}

bool TokenVerifier::VerifyAsymmetric(std::string_view alg, const std::optional<std::string>& kid,
                                     std::string_view signing_input,
                                     std::string_view signature) const {
  JwkType type = alg == "RS256" ? JwkType::kRsa : JwkType::kEcP256;
  std::optional<std::string> der;
  if (type == JwkType::kEcP256) {
    der = JoseToDer(signature);
    if (!der) return false;
    signature = *der;
  }
  ErrQueueGuard clear_errors;
  for (const Jwk& jwk : jwks_.keys) {
    if (jwk.type != type) continue;
    if (jwk.use && *jwk.use != "sig") continue;
    if (jwk.alg && *jwk.alg != alg) continue;
    if (kid && jwk.kid != kid) continue;
    if (DigestVerifySha256(jwk.key.get(), signing_input, signature)) return true;
  }
  return false;
}

Result<std::string> TokenVerifier::Verify(std::string_view token, std::int64_t now_seconds) const {
  auto claims = VerifyClaims(token, now_seconds);
  if (!claims) return claims.error();
  return std::move(claims->sub);
}

Result<VerifiedToken> TokenVerifier::VerifyClaims(std::string_view token,
                                                  std::int64_t now_seconds) const {
  if (token.empty() || token.size() > kMaxTokenBytes) return InvalidToken();
  std::size_t dot1 = token.find('.');
  std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return InvalidToken();
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);
  // Compact JWS is never padded; refusing '=' keeps one encoding per token.
  if (header_b64.empty() || payload_b64.empty() || signature_b64.empty() ||
      token.find('=') != std::string_view::npos) {
    return InvalidToken();
  }

  auto header_json = Base64UrlDecode(header_b64);
  auto signature = Base64UrlDecode(signature_b64);
  if (!header_json || !signature) return InvalidToken();
  auto header = ParseObject(*header_json);
  if (!header) return InvalidToken();
  // An allowlist, so "none", "None", "HS512", ... all fall through to rejection.
  auto alg = StringMember(*header, "alg");
  if (!alg || (*alg != "HS256" && *alg != "RS256" && *alg != "ES256")) return InvalidToken();
  // We implement no JWS extensions, and RFC 7515 requires rejecting unknown critical ones.
  if (header->contains("crit")) return InvalidToken();
  const json::value* kid_value = header->if_contains("kid");
  if (kid_value != nullptr && !kid_value->is_string()) return InvalidToken();
  std::optional<std::string> kid;
  if (kid_value != nullptr) kid = std::string(kid_value->get_string());

  // The key family is fixed by alg: HS256 only ever uses hs_secret, RS/ES only JWKS keys, so a
  // public key can never be used as an HMAC secret.
  std::string_view signing_input = token.substr(0, dot2);
  bool valid = *alg == "HS256" ? VerifyHs256(config_.hs_secret, signing_input, *signature)
                               : VerifyAsymmetric(*alg, kid, signing_input, *signature);
  if (!valid) return Unauthorized("Invalid token signature");

  auto payload_json = Base64UrlDecode(payload_b64);
  if (!payload_json) return InvalidToken();
  auto payload = ParseObject(*payload_json);
  if (!payload) return InvalidToken();
  auto sub = StringMember(*payload, "sub");
  auto exp = NumericMember(*payload, "exp");
  if (!sub || sub->empty() || !exp) return InvalidToken();
  // Compared as doubles: exact for any realistic epoch second, and fractional dates are legal.
  double now = static_cast<double>(now_seconds);
  if (now > *exp + kLeewaySeconds) return Unauthorized("Token expired");
  if (payload->contains("nbf")) {
    auto nbf = NumericMember(*payload, "nbf");
    if (!nbf) return InvalidToken();
    if (now + kLeewaySeconds < *nbf) return Unauthorized("Token not yet valid");
  }
  if (config_.issuer && StringMember(*payload, "iss") != config_.issuer) {
    return Unauthorized("Invalid token issuer");
  }
  if (config_.audience) {
    const json::value* aud = payload->if_contains("aud");
    bool match = false;
    if (aud != nullptr && aud->is_string()) {
      match = aud->get_string() == *config_.audience;
    } else if (aud != nullptr && aud->is_array()) {
      for (const json::value& a : aud->get_array()) {
        if (a.is_string() && a.get_string() == *config_.audience) match = true;
      }
    }
    if (!match) return Unauthorized("Invalid token audience");
  }
  return VerifiedToken{std::move(*sub), *exp + kLeewaySeconds};
}

std::string IssueHs256Token(std::string_view secret, std::string_view sub, std::int64_t now_seconds,
                            std::int64_t ttl_seconds, const std::optional<std::string>& issuer,
                            const std::optional<std::string>& audience) {
  if (secret.empty()) return {};
  json::object header;
  header["alg"] = "HS256";
  header["typ"] = "JWT";
  json::object payload;
  payload["sub"] = json::string_view(sub.data(), sub.size());
  payload["iat"] = now_seconds;
  payload["exp"] = now_seconds + ttl_seconds;
  if (issuer) payload["iss"] = *issuer;
  if (audience) payload["aud"] = *audience;

  std::string token = Base64UrlEncode(json::serialize(header));
  token += '.';
  token += Base64UrlEncode(json::serialize(payload));
  std::string mac = HmacSha256(secret, token);
  if (mac.empty()) return {};
  token += '.';
  token += Base64UrlEncode(mac);
  return token;
}

}  // namespace polaris
