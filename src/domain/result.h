#pragma once
// Error and Result<T>: how domain and service operations report failure without exceptions.
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace polaris {

enum class ErrorCode {
  kBadRequest,
  kUnauthorized,
  kNotFound,
  kConflict,
  kTooLarge,
  kUnprocessable,  // 422: e.g. an Idempotency-Key reused with another body
  kRateLimited,    // 429, with retry_after_seconds
  kUpstream,       // 502: no AI provider answered (the gateway failed, not this server)
  kInternal
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Extra string fields for the error body, e.g. {"messageId": "..."} on a 409.
  std::vector<std::pair<std::string, std::string>> fields;
  int retry_after_seconds = 0;  // > 0: sent as Retry-After

  static Error BadRequest(std::string m) { return {ErrorCode::kBadRequest, std::move(m), {}}; }
  static Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m), {}}; }
  static Error Conflict(std::string m) { return {ErrorCode::kConflict, std::move(m), {}}; }
  static Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m), {}}; }
  Error&& With(std::string key, std::string value) && {
    fields.emplace_back(std::move(key), std::move(value));
    return std::move(*this);
  }
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status Ok() {
  return Unit{};
}

}  // namespace polaris
