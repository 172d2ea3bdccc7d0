#include "auth/base64url.h"

#include <gtest/gtest.h>

#include <string>

namespace polaris {
namespace {

TEST(AuthBase64Url, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
}

TEST(AuthBase64Url, UsesUrlSafeAlphabet) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(Base64UrlDecode("-_-_"), std::string("\xfb\xff\xbf"));
}

TEST(AuthBase64Url, RoundTripsAllLengthsAndByteValues) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    auto decoded = Base64UrlDecode(Base64UrlEncode(bytes));
    ASSERT_TRUE(decoded.has_value()) << i;
    EXPECT_EQ(*decoded, bytes);
    bytes += static_cast<char>(i * 37 + 11);
  }
}

TEST(AuthBase64Url, AcceptsOptionalPadding) {
  EXPECT_EQ(Base64UrlDecode("Zg=="), "f");
  EXPECT_EQ(Base64UrlDecode("Zg"), "f");
  EXPECT_EQ(Base64UrlDecode("Zm8="), "fo");
  EXPECT_EQ(Base64UrlDecode("Zm8"), "fo");
  EXPECT_EQ(Base64UrlDecode(""), "");
}

TEST(AuthBase64Url, RejectsInvalidInput) {
  EXPECT_FALSE(Base64UrlDecode("Zm9v+g"));  // standard-alphabet '+'
  EXPECT_FALSE(Base64UrlDecode("Zm9v/g"));
  EXPECT_FALSE(Base64UrlDecode("Zm 9v"));
  EXPECT_FALSE(Base64UrlDecode("Zm9v.g"));
  EXPECT_FALSE(Base64UrlDecode(std::string("Zm\0v", 4)));
  EXPECT_FALSE(Base64UrlDecode("Z"));      // length 1 mod 4
  EXPECT_FALSE(Base64UrlDecode("Zm9vY"));  // length 1 mod 4
  EXPECT_FALSE(Base64UrlDecode("Zg="));    // padding not completing a group
  EXPECT_FALSE(Base64UrlDecode("Zg==="));
  EXPECT_FALSE(Base64UrlDecode("Z==="));
  EXPECT_FALSE(Base64UrlDecode("Zg==Zg"));  // padding in the middle
  EXPECT_FALSE(Base64UrlDecode("="));
  EXPECT_FALSE(Base64UrlDecode("Zh"));  // non-zero trailing bits: non-canonical "f"
}

}  // namespace
}  // namespace polaris
