#pragma once
// JWT bearer tokens (RFC 7519, JWS compact form): HS256 with a shared secret, RS256/ES256 with
// keys from a JWKS file. Only these three algorithms are ever accepted.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/jwks.h"
#include "domain/result.h"

namespace polaris {

struct AuthConfig {
  std::string hs_secret;                // HS256 secret, raw bytes (may be empty = HS256 disabled)
  std::string jwks_file;                // empty = no RS256/ES256
  std::optional<std::string> issuer;    // when set, iss must equal it
  std::optional<std::string> audience;  // when set, aud (string or array) must contain it
};

struct VerifiedToken {
  std::string sub;
  double valid_until = 0;  // epoch seconds after which the token is refused (exp + leeway)
};

class TokenVerifier {
 public:
  // Loads the JWKS file (if configured). Fails when it is unreadable, invalid or holds no usable
  // key, or when neither an HS256 secret nor a JWKS file is configured.
  static Result<std::unique_ptr<TokenVerifier>> Create(AuthConfig config);

  // Returns the token's `sub`. Every failure is ErrorCode::kUnauthorized with a short message
  // that reveals nothing about keys or configuration. Thread-safe: state is read-only.
  Result<std::string> Verify(std::string_view token, std::int64_t now_seconds) const;
  // The same checks, also saying until when the token stays valid (long-lived sessions).
  Result<VerifiedToken> VerifyClaims(std::string_view token, std::int64_t now_seconds) const;

 private:
  TokenVerifier(AuthConfig config, Jwks jwks);
  bool VerifyAsymmetric(std::string_view alg, const std::optional<std::string>& kid,
                        std::string_view signing_input, std::string_view signature) const;

  AuthConfig config_;
  Jwks jwks_;
};

// Signs {"sub","iat","exp"[,"iss"][,"aud"]} with HMAC-SHA256. Returns "" if secret is empty,
// since such a token could never be verified.
std::string IssueHs256Token(std::string_view secret, std::string_view sub, std::int64_t now_seconds,
                            std::int64_t ttl_seconds, const std::optional<std::string>& issuer = {},
                            const std::optional<std::string>& audience = {});

}  // namespace polaris
