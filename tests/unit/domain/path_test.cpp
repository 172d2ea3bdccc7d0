#include "domain/path.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace polaris {
namespace {

using Parts = std::vector<std::string>;

void ExpectRejected(std::string_view path) {
  auto r = SplitPath(path);
  ASSERT_FALSE(r.ok()) << "accepted: '" << std::string(path) << "'";
  EXPECT_EQ(r.error().code, ErrorCode::kBadRequest) << std::string(path);
  EXPECT_FALSE(r.error().message.empty());
}

Parts Split(std::string_view path) {
  auto r = SplitPath(path);
  EXPECT_TRUE(r.ok()) << "rejected: '" << std::string(path) << "': " << r.error().message;
  return r.ok() ? r.value() : Parts{};
}

std::string Repeat(std::string_view unit, std::size_t n, std::string_view sep = "") {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i && !sep.empty()) out += sep;
    out += unit;
  }
  return out;
}

TEST(DomainPath, SplitsNormalPaths) {
  EXPECT_EQ(Split("a.txt"), (Parts{"a.txt"}));
  EXPECT_EQ(Split("src/main.cpp"), (Parts{"src", "main.cpp"}));
  EXPECT_EQ(Split("a/b/c/d.txt"), (Parts{"a", "b", "c", "d.txt"}));
  EXPECT_EQ(Split(".gitignore"), (Parts{".gitignore"}));
  EXPECT_EQ(Split("..."), (Parts{"..."}));
  EXPECT_EQ(Split("a/.hidden/..x"), (Parts{"a", ".hidden", "..x"}));
  EXPECT_EQ(Split("with space/ x y "), (Parts{"with space", " x y "}));
  EXPECT_EQ(Split("\xc3\xa9t\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.md"),
            (Parts{"\xc3\xa9t\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac.md"}));
  EXPECT_EQ(Split("emoji/\xf0\x9f\x98\x80"), (Parts{"emoji", "\xf0\x9f\x98\x80"}));
}

TEST(DomainPath, RejectsEmptyAndAbsolute) {
  ExpectRejected("");
  ExpectRejected("/");
  ExpectRejected("/abs");
  ExpectRejected("/a/b.txt");
}

TEST(DomainPath, RejectsEmptySegments) {
  ExpectRejected("a//b");
  ExpectRejected("a/");
  ExpectRejected("a/b/");
  ExpectRejected("//");
}

TEST(DomainPath, RejectsDotSegments) {
  ExpectRejected(".");
  ExpectRejected("..");
  ExpectRejected("a/./b");
  ExpectRejected("a/../b");
  ExpectRejected("../a");
  ExpectRejected("./a");
  ExpectRejected("a/..");
  ExpectRejected("a/.");
}

TEST(DomainPath, RejectsNulAndControlCharacters) {
  ExpectRejected(std::string_view("a\0b", 3));
  ExpectRejected(std::string_view("dir/\0", 5));
  ExpectRejected(
      "a\x01"
      "b");
  ExpectRejected("a\x7f");
  ExpectRejected("dir/a\nb");
  ExpectRejected("a\tb");
  ExpectRejected("a\x1f");
}

TEST(DomainPath, RejectsBackslash) {
  ExpectRejected("a\\b");
}

TEST(DomainPath, RejectsInvalidUtf8) {
  ExpectRejected("\xff");
  ExpectRejected("a/\xc3");            // truncated
  ExpectRejected("\xc0\xaf");          // overlong '/'
  ExpectRejected("\xed\xa0\x80.txt");  // surrogate
  ExpectRejected(
      "ok/\x80"
      "bad");  // lone continuation byte
}

TEST(DomainPath, NameLengthLimitIs255Bytes) {
  EXPECT_EQ(Split(std::string(255, 'n')).size(), 1u);
  ExpectRejected(std::string(256, 'n'));
  ExpectRejected("dir/" + std::string(256, 'n'));
  // The limit counts bytes, not characters: 128 two-byte characters are 256 bytes.
  ExpectRejected(Repeat("\xc3\xa9", 128));
  EXPECT_EQ(Split(Repeat("\xc3\xa9", 127)).size(), 1u);
}

TEST(DomainPath, DepthLimitIs256) {
  EXPECT_EQ(Split(Repeat("a", 256, "/")).size(), 256u);
  ExpectRejected(Repeat("a", 257, "/"));
  ExpectRejected(Repeat("a", 1000, "/"));
}

TEST(DomainPath, TotalLengthLimitIs4096Bytes) {
  // 17 names of 240 bytes and 16 slashes: exactly 4096 bytes, the limit.
  std::string at_limit = Repeat(std::string(240, 'x'), 17, "/");
  ASSERT_EQ(at_limit.size(), kMaxPathBytes);
  EXPECT_EQ(Split(at_limit).size(), 17u);
  // One byte more, though every name is still valid.
  std::string over = at_limit + "y";
  ASSERT_EQ(over.size(), kMaxPathBytes + 1);
  ExpectRejected(over);
  ExpectRejected(Repeat(std::string(255, 'x'), 40, "/"));
}

TEST(DomainPath, ValidateNameChecksOneSegment) {
  EXPECT_TRUE(ValidateName("file.txt").ok());
  EXPECT_TRUE(ValidateName("\xe2\x82\xac").ok());
  for (std::string_view bad : {"", ".", "..", "a/b", "/", "a\\b", "a\x01", "\x7f", "\xfe"}) {
    auto st = ValidateName(bad);
    ASSERT_FALSE(st.ok()) << std::string(bad);
    EXPECT_EQ(st.error().code, ErrorCode::kBadRequest);
  }
  EXPECT_FALSE(ValidateName(std::string_view("a\0", 2)).ok());
  EXPECT_FALSE(ValidateName(std::string(256, 'a')).ok());
  EXPECT_TRUE(ValidateName(std::string(255, 'a')).ok());
}

}  // namespace
}  // namespace polaris
