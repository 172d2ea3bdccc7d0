#pragma once
// PostgreSQL text cannot hold U+0000, which users may put in a file or a message (SQLite
// keeps it). Every text value goes through this reversible escape on its way in and out:
// U+0000 becomes ESC '0' and ESC itself becomes ESC 'E', where ESC is U+10FFFE, a noncharacter
// that real text hardly ever contains. Text without either is stored as it is, so equality,
// ordering and indexes work unchanged; octet_length (the quota triggers) counts 5 bytes for an
// escaped U+0000.
#include <string>
#include <string_view>

namespace polaris::pg {

// Whether s holds U+0000 or ESC (and so differs once escaped).
bool NeedsEscape(std::string_view s);
std::string EscapeText(std::string_view s);
// The inverse of EscapeText; text without ESC comes back as it is.
std::string UnescapeText(std::string_view s);

}  // namespace polaris::pg
