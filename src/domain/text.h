#pragma once
// Unicode helpers over UTF-8 text (input is assumed valid UTF-8, as the JSON parser ensures).
#include <cstddef>
#include <string>
#include <string_view>

namespace polaris {

bool IsValidUtf8(std::string_view s);
std::size_t CountCodePoints(std::string_view s);
// True when every code point has the Unicode White_Space property (or the text is empty).
bool IsBlank(std::string_view s);
// True when s holds a control character (C0, DEL, C1) or a bidirectional control (the
// overrides and isolates U+202A-U+202E, U+2066-U+2069, the marks U+200E, U+200F, U+061C):
// they make a name display as something else than it is.
bool HasUnsafeCharacters(std::string_view s);
// The longest prefix of s no longer than max_bytes that ends on a character boundary.
std::string_view Utf8Prefix(std::string_view s, std::size_t max_bytes);
// s for repeating in an error: at most max_bytes of it (whole characters), then "..." when cut.
std::string ClipForEcho(std::string_view s, std::size_t max_bytes = 100);
// Unicode Normalization Form C (utf8proc), so that a name typed as "é" and one typed as
// "e" + combining accent are the same name. Input must be valid UTF-8.
std::string ToNfc(std::string_view s);
// A size for an error sentence: "1 MiB", "64 KiB", or bytes when not a whole number of either.
std::string HumanBytes(std::size_t n);

}  // namespace polaris
