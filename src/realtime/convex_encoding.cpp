#include "realtime/convex_encoding.h"

#include <array>

namespace polaris::realtime {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}
}  // namespace

std::string EncodeTs(std::uint64_t ts) {
  std::array<unsigned char, 9> bytes{};  // 8 bytes + one zero byte to make 3 groups of 3
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(ts >> (8 * i));
  std::string out;
  for (int g = 0; g < 3; ++g) {
    unsigned v = (bytes[3 * g] << 16) | (bytes[3 * g + 1] << 8) | bytes[3 * g + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  out.back() = '=';  // 8 bytes = 2 full groups + 2 bytes: one padding character
  return out;
}

std::optional<std::uint64_t> DecodeTs(std::string_view text) {
  if (text.size() != 12 || text[11] != '=' || text[10] == '=') return std::nullopt;
  std::array<unsigned char, 9> bytes{};
  for (int g = 0; g < 3; ++g) {
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[4 * g + k];
      int s = (g == 2 && k == 3) ? 0 : Sextet(c);
      if (s < 0) return std::nullopt;
      v = (v << 6) | static_cast<unsigned>(s);
    }
    bytes[3 * g] = static_cast<unsigned char>(v >> 16);
    bytes[3 * g + 1] = static_cast<unsigned char>(v >> 8);
    bytes[3 * g + 2] = static_cast<unsigned char>(v);
  }
  std::uint64_t ts = 0;
  for (int i = 0; i < 8; ++i) ts |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
  return ts;
}

std::string UncaughtError(std::string_view message) {
  return "Uncaught Error: " + std::string(message);
}

}  // namespace polaris::realtime
