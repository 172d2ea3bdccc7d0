// The Convex wire encodings: u64 timestamps as standard base64 of 8 little-endian bytes.
#include "realtime/convex_encoding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace polaris::realtime {
namespace {

// An independent reference: textbook base64 (standard alphabet, '=' padding).
std::string ReferenceBase64(std::uint64_t v) {
  static constexpr char kAlpha[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned char in[8];
  for (int i = 0; i < 8; ++i) in[i] = static_cast<unsigned char>(v >> (8 * i));
  std::string out;
  int i = 0;
  for (; i + 3 <= 8; i += 3) {
    unsigned n = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += kAlpha[(n >> s) & 63];
  }
  unsigned n = (in[i] << 16) | (in[i + 1] << 8);  // two bytes left
  out += kAlpha[(n >> 18) & 63];
  out += kAlpha[(n >> 12) & 63];
  out += kAlpha[(n >> 6) & 63];
  out += '=';
  return out;
}

std::string ToUrlSafe(std::string s) {
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

bool IsStandardBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

std::vector<std::uint64_t> InterestingValues() {
  std::vector<std::uint64_t> v = {0,
                                  1,
                                  2,
                                  255,
                                  256,
                                  65535,
                                  65536,
                                  0xFFFFFFFFull,
                                  0x100000000ull,
                                  1'700'000'000'123'456'789ull,  // a nanosecond timestamp
                                  0x8000000000000000ull,
                                  0x7FFFFFFFFFFFFFFFull,
                                  0xFBFFFBFFFBFFFBFFull,  // '+' and '/' in its encoding
                                  std::numeric_limits<std::uint64_t>::max() - 1,
                                  std::numeric_limits<std::uint64_t>::max()};
  for (int bit = 0; bit < 64; ++bit) v.push_back(std::uint64_t{1} << bit);
  std::mt19937_64 rng(20240601);
  for (int i = 0; i < 5000; ++i) v.push_back(rng());
  return v;
}

TEST(ConvexEncoding, ZeroIsAllA) {
  EXPECT_EQ(EncodeTs(0), "AAAAAAAAAAA=");
  auto back = DecodeTs("AAAAAAAAAAA=");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, 0u);
}

TEST(ConvexEncoding, KnownValues) {
  EXPECT_EQ(EncodeTs(1), "AQAAAAAAAAA=");
  EXPECT_EQ(EncodeTs(std::numeric_limits<std::uint64_t>::max()), "//////////8=");
  EXPECT_EQ(EncodeTs(1'700'000'000'123'456'789ull), "Fc2FPf6clxc=");
  EXPECT_EQ(EncodeTs(0xFBFFFBFFFBFFFBFFull), "//v/+//7//s=");
}

TEST(ConvexEncoding, MatchesReferenceBase64) {
  for (auto v : InterestingValues()) {
    ASSERT_EQ(EncodeTs(v), ReferenceBase64(v)) << v;
  }
}

TEST(ConvexEncoding, TwelveStandardCharsEndingInPadding) {
  for (auto v : InterestingValues()) {
    const std::string s = EncodeTs(v);
    ASSERT_EQ(s.size(), 12u) << v;
    ASSERT_EQ(s.back(), '=') << v;
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      ASSERT_TRUE(IsStandardBase64Char(s[i])) << v << " -> " << s;
    }
  }
}

TEST(ConvexEncoding, RoundTrips) {
  for (auto v : InterestingValues()) {
    auto back = DecodeTs(EncodeTs(v));
    ASSERT_TRUE(back.has_value()) << v;
    ASSERT_EQ(*back, v);
  }
}

TEST(ConvexEncoding, AcceptsUrlSafeAlphabet) {
  EXPECT_EQ(DecodeTs("__________8="), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(DecodeTs("__v_-__7__s="), 0xFBFFFBFFFBFFFBFFull);
  for (auto v : InterestingValues()) {
    auto back = DecodeTs(ToUrlSafe(EncodeTs(v)));
    ASSERT_TRUE(back.has_value()) << v;
    ASSERT_EQ(*back, v);
  }
}

TEST(ConvexEncoding, RejectsWrongLengths) {
  EXPECT_FALSE(DecodeTs(""));
  EXPECT_FALSE(DecodeTs("="));
  EXPECT_FALSE(DecodeTs("AAAAAAAAAAA"));       // 11: padding missing
  EXPECT_FALSE(DecodeTs("AAAAAAAAAAA=="));     // 13
  EXPECT_FALSE(DecodeTs("AAAAAAAAAAAA="));     // 13
  EXPECT_FALSE(DecodeTs("AAAAAAAA"));          // 6 bytes' worth
  EXPECT_FALSE(DecodeTs("AAAAAAAAAAAAAAAA"));  // 12 bytes' worth
  EXPECT_FALSE(DecodeTs("AAAAAAAAAAAAAAA="));  // 11 bytes' worth
}

TEST(ConvexEncoding, RejectsWrongPadding) {
  EXPECT_FALSE(DecodeTs("AAAAAAAAAAAA"));  // 12 chars, 9 bytes: no padding
  EXPECT_FALSE(DecodeTs("AAAAAAAAAA=="));  // 7 bytes
  EXPECT_FALSE(DecodeTs("AAAAAAAAA==="));
  EXPECT_FALSE(DecodeTs("============"));
}

TEST(ConvexEncoding, RejectsCharactersOutsideBothAlphabets) {
  const std::string good = EncodeTs(1'700'000'000'123'456'789ull);
  const std::string bad_chars = std::string("*.!@#$%^&() ~\t\n") + '\0' + "\x80\xff";
  for (std::size_t pos = 0; pos < 11; ++pos) {
    for (char c : bad_chars) {
      std::string s = good;
      s[pos] = c;
      EXPECT_FALSE(DecodeTs(s)) << "position " << pos << " char " << static_cast<int>(c);
    }
  }
  std::string eq_inside = good;
  eq_inside[3] = '=';
  EXPECT_FALSE(DecodeTs(eq_inside));
}

TEST(ConvexEncoding, UncaughtError) {
  EXPECT_EQ(UncaughtError("Conversation not found"), "Uncaught Error: Conversation not found");
  EXPECT_EQ(UncaughtError(""), "Uncaught Error: ");
}

}  // namespace
}  // namespace polaris::realtime
