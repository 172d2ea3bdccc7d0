#include "auth/jwks.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <boost/json.hpp>
#include <fstream>

#include "auth/base64url.h"
#include "json/json_input.h"

namespace polaris {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxJwksBytes = 1 << 20;
constexpr int kMinRsaBits = 2048;
constexpr std::size_t kP256CoordBytes = 32;

struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

Error Invalid(std::string what) {
  return Error::Internal("Invalid JWKS: " + std::move(what));
}

std::optional<std::string> OptionalString(const json::object& obj, std::string_view name) {
  return json_input::StringMember(obj, name);
}

// A required base64url member, decoded to raw bytes.
std::optional<std::string> DecodedMember(const json::object& obj, std::string_view name) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  auto bytes = Base64UrlDecode(v->get_string());
  if (!bytes || bytes->empty()) return std::nullopt;
  return bytes;
}

// Turns builder params into a public key of the given OpenSSL type, then checks it is sane.
Result<EvpPkeyPtr> KeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return Invalid("unusable key material");
  }
  EvpPkeyPtr key(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) <= 0) return Invalid("public key check failed");
  return key;
}

Result<EvpPkeyPtr> RsaKey(const json::object& obj) {
  auto n = DecodedMember(obj, "n");
  auto e = DecodedMember(obj, "e");
  if (!n || !e) return Invalid("RSA key needs n and e");
  std::unique_ptr<BIGNUM, BnDeleter> bn_n(BN_bin2bn(
      reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
  std::unique_ptr<BIGNUM, BnDeleter> bn_e(BN_bin2bn(
      reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) return Error::Internal("out of memory");
  // Short moduli are forgeable with modest effort; refuse them rather than accept weak keys.
  if (BN_num_bits(bn_n.get()) < kMinRsaBits) return Invalid("RSA key shorter than 2048 bits");
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return Error::Internal("out of memory");
  }
  return KeyFromParams("RSA", bld.get());
}

Result<EvpPkeyPtr> EcP256Key(const json::object& obj) {
  auto x = DecodedMember(obj, "x");
  auto y = DecodedMember(obj, "y");
  if (!x || !y) return Invalid("EC key needs x and y");
  if (x->size() != kP256CoordBytes || y->size() != kP256CoordBytes) {
    return Invalid("P-256 coordinates must be 32 bytes");
  }
  // OpenSSL takes the public key as an uncompressed SEC1 point: 0x04 || x || y.
  std::string point = "\x04" + *x + *y;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return Error::Internal("out of memory");
  }
  return KeyFromParams("EC", bld.get());
}

}  // namespace

Result<Jwks> ParseJwks(std::string_view text) {
  if (text.size() > kMaxJwksBytes) return Invalid("document too large");
  auto parsed = json_input::Parse(text, 32);  // a key set is shallow
  if (!parsed) return Invalid("not valid JSON");
  json::value doc = std::move(*parsed);
  const json::object* root = doc.if_object();
  const json::value* keys = root ? root->if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) return Invalid("missing \"keys\" array");

  Jwks jwks;
  for (const json::value& entry : keys->get_array()) {
    const json::object* obj = entry.if_object();
    if (obj == nullptr) return Invalid("key is not an object");
    auto kty = OptionalString(*obj, "kty");
    if (!kty) return Invalid("key without kty");

    Jwk jwk;
    Result<EvpPkeyPtr> key = Error::Internal("unset");
    if (*kty == "RSA") {
      jwk.type = JwkType::kRsa;
      key = RsaKey(*obj);
    } else if (*kty == "EC" && OptionalString(*obj, "crv") == "P-256") {
      jwk.type = JwkType::kEcP256;
      key = EcP256Key(*obj);
    } else {
      continue;  // e.g. oct, OKP or other curves: not supported, not an error
    }
    if (!key.ok()) return key.error();
    jwk.key = std::move(key.value());
    jwk.kid = OptionalString(*obj, "kid");
    jwk.alg = OptionalString(*obj, "alg");
    jwk.use = OptionalString(*obj, "use");
    jwks.keys.push_back(std::move(jwk));
  }
  return jwks;
}

Result<Jwks> LoadJwksFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Internal("Cannot read JWKS file " + path);
  std::string text;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxJwksBytes) return Invalid("document too large");
  }
  if (in.bad()) return Error::Internal("Cannot read JWKS file " + path);
  return ParseJwks(text);
}

}  // namespace polaris
