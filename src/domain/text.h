#pragma once
// Unicode helpers over UTF-8 text (input is assumed valid UTF-8, as the JSON parser ensures).
#include <cstddef>
#include <string_view>

namespace polaris {

bool IsValidUtf8(std::string_view s);
std::size_t CountCodePoints(std::string_view s);
// True when every code point has the Unicode White_Space property (or the text is empty).
bool IsBlank(std::string_view s);

}  // namespace polaris
