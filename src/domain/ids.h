#pragma once
// Document ids: "<table tag>_<26 chars of base32>": 10 characters of creation time in
// milliseconds (sortable, so new ids land at the right edge of an index), then 16 characters
// (80 bits) from the kernel CSPRNG, which keep ids unguessable. The tag makes an id of the
// wrong table detectable before any lookup.
#include <string>
#include <string_view>

namespace polaris {

enum class Table { kProject, kConversation, kMessage, kFile, kRun };

std::string NewId(Table table);
bool IsValidId(std::string_view id, Table table);
const char* TableTag(Table table);
// Fills buf with cryptographically secure random bytes; aborts if the kernel cannot.
void SecureRandom(void* buf, std::size_t len);

}  // namespace polaris
