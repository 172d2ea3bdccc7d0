#pragma once
// JSON Web Key Sets (RFC 7517): public RSA and EC P-256 keys for verifying RS256/ES256 tokens.
#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace polaris {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

enum class JwkType { kRsa, kEcP256 };

struct Jwk {
  JwkType type = JwkType::kRsa;
  std::optional<std::string> kid;
  std::optional<std::string> alg;  // e.g. "RS256"; when set, the key is only used for that alg
  std::optional<std::string> use;  // e.g. "sig"; keys for other uses are never used to verify
  EvpPkeyPtr key;                  // public key only; safe for concurrent verification
};

struct Jwks {
  std::vector<Jwk> keys;
};

// Keys of unsupported types or curves are skipped; a malformed RSA/EC P-256 key is an error,
// since silently dropping a key the operator configured would only surface as failed logins.
Result<Jwks> ParseJwks(std::string_view json);
Result<Jwks> LoadJwksFile(const std::string& path);

}  // namespace polaris
