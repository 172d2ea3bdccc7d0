#include "domain/text.h"

#include <gtest/gtest.h>

#include <string>

namespace polaris {
namespace {

TEST(DomainText, CountCodePointsAscii) {
  EXPECT_EQ(CountCodePoints(""), 0u);
  EXPECT_EQ(CountCodePoints("a"), 1u);
  EXPECT_EQ(CountCodePoints("hello world"), 11u);
}

TEST(DomainText, CountCodePointsMultiByte) {
  EXPECT_EQ(CountCodePoints("\xc3\xa9"), 1u);          // é (2 bytes)
  EXPECT_EQ(CountCodePoints("\xe2\x82\xac"), 1u);      // € (3 bytes)
  EXPECT_EQ(CountCodePoints("\xf0\x9f\x98\x80"), 1u);  // 😀 (4 bytes)
  EXPECT_EQ(CountCodePoints("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80!"), 10u);
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "\xf0\x9f\x98\x80";
  EXPECT_EQ(many.size(), 4000u);
  EXPECT_EQ(CountCodePoints(many), 1000u);
  // Combining marks are code points of their own.
  EXPECT_EQ(CountCodePoints("e\xcc\x81"), 2u);
}

TEST(DomainText, IsBlankAsciiWhitespace) {
  EXPECT_TRUE(IsBlank(""));
  EXPECT_TRUE(IsBlank(" "));
  EXPECT_TRUE(IsBlank(" \t\n\r\v\f "));
  EXPECT_FALSE(IsBlank("a"));
  EXPECT_FALSE(IsBlank("  a  "));
  EXPECT_FALSE(IsBlank(std::string_view("\0", 1)));
}

TEST(DomainText, IsBlankUnicodeSpaces) {
  EXPECT_TRUE(IsBlank("\xc2\xa0"));                  // U+00A0 no-break space
  EXPECT_TRUE(IsBlank("\xe2\x80\x83"));              // U+2003 em space
  EXPECT_TRUE(IsBlank("\xe3\x80\x80"));              // U+3000 ideographic space
  EXPECT_TRUE(IsBlank("\xc2\x85"));                  // U+0085 next line
  EXPECT_TRUE(IsBlank("\xe1\x9a\x80"));              // U+1680 ogham space mark
  EXPECT_TRUE(IsBlank("\xe2\x80\x80\xe2\x80\x8a"));  // U+2000, U+200A
  EXPECT_TRUE(IsBlank("\xe2\x80\xa8\xe2\x80\xa9"));  // U+2028, U+2029
  EXPECT_TRUE(IsBlank("\xe2\x80\xaf\xe2\x81\x9f"));  // U+202F, U+205F
  EXPECT_TRUE(IsBlank(" \xc2\xa0\t\xe3\x80\x80\n\xe2\x80\x83"));
  EXPECT_FALSE(IsBlank("\xc2\xa0x\xe3\x80\x80"));
}

TEST(DomainText, ZeroWidthCharactersAreNotBlank) {
  EXPECT_FALSE(IsBlank("\xe2\x80\x8b"));  // U+200B zero width space
  EXPECT_FALSE(IsBlank("\xe2\x80\x8c"));  // U+200C ZWNJ
  EXPECT_FALSE(IsBlank("\xe2\x80\x8d"));  // U+200D ZWJ
  EXPECT_FALSE(IsBlank("\xe2\x81\xa0"));  // U+2060 word joiner
  EXPECT_FALSE(IsBlank("\xef\xbb\xbf"));  // U+FEFF BOM
  EXPECT_FALSE(IsBlank("\xe1\xa0\x8e"));  // U+180E (no longer White_Space)
  EXPECT_FALSE(IsBlank(" \xe2\x80\x8b "));
}

TEST(DomainText, IsBlankRejectsInvalidUtf8) {
  EXPECT_FALSE(IsBlank("\xa0"));      // bare continuation byte, not U+00A0
  EXPECT_FALSE(IsBlank(" \xc2"));     // truncated
  EXPECT_FALSE(IsBlank("\xc1\xa0"));  // overlong U+0060... not whitespace either way
  EXPECT_FALSE(IsBlank("\xc0\xa0"));  // overlong encoding of U+0020
}

TEST(DomainText, IsValidUtf8AcceptsWellFormed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8(std::string_view("nul\0inside", 10)));
  EXPECT_TRUE(IsValidUtf8("\xc2\x80"));          // U+0080, smallest 2-byte
  EXPECT_TRUE(IsValidUtf8("\xdf\xbf"));          // U+07FF
  EXPECT_TRUE(IsValidUtf8("\xe0\xa0\x80"));      // U+0800, smallest 3-byte
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));      // U+D7FF, just below surrogates
  EXPECT_TRUE(IsValidUtf8("\xee\x80\x80"));      // U+E000, just above
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbf"));      // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xf0\x90\x80\x80"));  // U+10000, smallest 4-byte
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, largest
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
}

TEST(DomainText, IsValidUtf8RejectsOverlongs) {
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));          // U+0000 as 2 bytes
  EXPECT_FALSE(IsValidUtf8("\xc1\xbf"));          // U+007F as 2 bytes
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // '/' as 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xe0\x9f\xbf"));      // U+07FF as 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));  // '/' as 4 bytes
  EXPECT_FALSE(IsValidUtf8("\xf0\x8f\xbf\xbf"));  // U+FFFF as 4 bytes
}

TEST(DomainText, IsValidUtf8RejectsSurrogates) {
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));              // U+D800
  EXPECT_FALSE(IsValidUtf8("\xed\xaf\xbf"));              // U+DBFF
  EXPECT_FALSE(IsValidUtf8("\xed\xb0\x80"));              // U+DC00
  EXPECT_FALSE(IsValidUtf8("\xed\xbf\xbf"));              // U+DFFF
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\xbd\xed\xb8\x80"));  // CESU-8 pair
}

TEST(DomainText, IsValidUtf8RejectsOtherMalformed) {
  EXPECT_FALSE(IsValidUtf8("\x80"));  // lone continuation
  EXPECT_FALSE(IsValidUtf8("a\xbf"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));          // truncated 2-byte
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));      // truncated 3-byte
  EXPECT_FALSE(IsValidUtf8("\xf0\x9f\x98"));  // truncated 4-byte
  EXPECT_FALSE(
      IsValidUtf8("\xc3"
                  "a"));  // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xe2\x28\xa1"));
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000, beyond Unicode
  EXPECT_FALSE(IsValidUtf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xf8\x88\x80\x80\x80"));  // 5-byte form
  EXPECT_FALSE(IsValidUtf8("\xfe"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

}  // namespace
}  // namespace polaris

namespace polaris {
namespace {

TEST(UnsafeCharacters, ControlAndBidiCharactersAreFound) {
  EXPECT_FALSE(HasUnsafeCharacters("plain name.txt"));
  EXPECT_FALSE(HasUnsafeCharacters("caf\xC3\xA9 \xF0\x9F\x9A\x80"));
  for (const char* bad :
       {"a\x07", "a\x7F", "a\xC2\x85", "a\xE2\x80\xAE", "a\xE2\x80\xAA", "a\xE2\x81\xA6",
        "a\xE2\x81\xA9", "a\xE2\x80\x8E", "a\xE2\x80\x8F", "a\xD8\x9C"}) {
    EXPECT_TRUE(HasUnsafeCharacters(bad)) << bad;
  }
}

TEST(Nfc, DecomposedAndComposedSpellingsMeet) {
  EXPECT_EQ(ToNfc("e\xCC\x81.txt"), "\xC3\xA9.txt");
  EXPECT_EQ(ToNfc("\xC3\xA9.txt"), "\xC3\xA9.txt");
  EXPECT_EQ(ToNfc("ascii"), "ascii");
}

TEST(HumanBytes, WholeUnitsOrBytes) {
  EXPECT_EQ(HumanBytes(1 << 20), "1 MiB");
  EXPECT_EQ(HumanBytes(16u << 20), "16 MiB");
  EXPECT_EQ(HumanBytes(64 << 10), "64 KiB");
  EXPECT_EQ(HumanBytes(1000), "1000 bytes");
}

}  // namespace
}  // namespace polaris
