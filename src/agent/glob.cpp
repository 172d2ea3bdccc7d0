#include "agent/glob.h"

#include <algorithm>

#include "domain/text.h"

namespace polaris::agent {
namespace {

constexpr std::size_t kMaxGlobBytes = 1000;
constexpr std::size_t kMaxAlternatives = 256;
constexpr int kMaxBraceDepth = 8;

// Decodes UTF-8 that the caller has already validated.
std::u32string DecodeUtf8(std::string_view s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (std::size_t k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Expands {a,b} alternatives into plain patterns. Escapes and [classes] are copied through
// untouched so that braces and commas inside them stay literal.
class BraceExpander {
 public:
  explicit BraceExpander(std::string_view s) : s_(s) {}
  Result<std::vector<std::string>> Run() { return Sequence(0); }

 private:
  using Patterns = std::vector<std::string>;

  // Stops at ',' or '}' inside a group; at top level both are literal.
  Result<Patterns> Sequence(int depth) {
    Patterns out{""};
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (depth > 0 && (c == ',' || c == '}')) break;
      if (c == '{') {
        ++pos_;
        auto alts = Group(depth + 1);
        if (!alts) return alts;
        if (out.size() * alts->size() > kMaxAlternatives) return TooMany();
        out = Product(out, *alts);
        continue;
      }
      std::size_t len = c == '\\'  ? std::min<std::size_t>(2, s_.size() - pos_)
                        : c == '[' ? ClassLength()
                                   : 1;
      for (auto& p : out) p.append(s_.substr(pos_, len));
      pos_ += len;
    }
    return out;
  }

  // Called just after '{'.
  Result<Patterns> Group(int depth) {
    if (depth > kMaxBraceDepth) return Error::BadRequest("Invalid glob: braces nested too deeply");
    Patterns alts;
    while (true) {
      auto seq = Sequence(depth);
      if (!seq) return seq;
      alts.insert(alts.end(), seq->begin(), seq->end());
      if (alts.size() > kMaxAlternatives) return TooMany();
      if (pos_ >= s_.size()) return Error::BadRequest("Invalid glob: unclosed '{'");
      if (s_[pos_++] == '}') return alts;
    }
  }

  // Length of the [class] at pos_, or 1 when it is unclosed (the segment compiler reports it).
  std::size_t ClassLength() const {
    std::size_t i = pos_ + 1;
    if (i < s_.size() && (s_[i] == '!' || s_[i] == '^')) ++i;
    if (i < s_.size() && s_[i] == ']') ++i;
    while (i < s_.size() && s_[i] != ']') i += s_[i] == '\\' ? 2 : 1;
    return i < s_.size() ? i - pos_ + 1 : 1;
  }

  static Patterns Product(const Patterns& heads, const Patterns& tails) {
    Patterns out;
    for (const auto& h : heads) {
      for (const auto& t : tails) out.push_back(h + t);
    }
    return out;
  }

  static Error TooMany() { return Error::BadRequest("Invalid glob: too many {a,b} alternatives"); }

  std::string_view s_;
  std::size_t pos_ = 0;
};

std::vector<std::string_view> SplitSegments(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = std::min(s.find('/', start), s.size());
    std::string_view seg = s.substr(start, end - start);
    if (!seg.empty() && seg != ".") out.push_back(seg);  // tolerate "a//b" and "./"
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<Glob> Glob::Compile(std::string_view glob) {
  if (glob.size() > kMaxGlobBytes) return Error::BadRequest("Invalid glob: too long");
  if (!IsValidUtf8(glob)) return Error::BadRequest("Invalid glob: not valid UTF-8");
  auto expanded = BraceExpander(glob).Run();
  if (!expanded) return expanded.error();
  Glob out;
  for (const auto& p : *expanded) {
    if (auto st = out.AddPattern(p); !st) return st.error();
  }
  return out;
}

Status Glob::AddPattern(std::string_view p) {
  while (p.substr(0, 2) == "./") p.remove_prefix(2);
  bool dir_only = !p.empty() && p.back() == '/';
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  // gitignore: a '/' at the start or in the middle anchors the glob to the root.
  bool anchored = p.find('/') != std::string_view::npos;
  Pattern pattern;
  if (!anchored) pattern.push_back(Segment{true, {}});
  for (auto seg : SplitSegments(p)) {
    auto compiled = CompileSegment(seg);
    if (!compiled) return compiled.error();
    pattern.push_back(std::move(*compiled));
  }
  if (dir_only || pattern.empty() || (!anchored && pattern.size() == 1)) {
    pattern.push_back(Segment{true, {}});
  }
  patterns_.push_back(std::move(pattern));
  return Ok();
}

Result<Glob::Segment> Glob::CompileSegment(std::string_view segment) {
  if (segment == "**") return Segment{true, {}};
  std::u32string s = DecodeUtf8(segment);
  Segment out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char32_t c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      out.tokens.push_back({Kind::kLiteral, s[++i], 0});
    } else if (c == '*') {
      if (out.tokens.empty() || out.tokens.back().kind != Kind::kStar) {
        out.tokens.push_back({Kind::kStar, 0, 0});
      }
    } else if (c == '?') {
      out.tokens.push_back({Kind::kAnyChar, 0, 0});
    } else if (c == '[') {
      Class cls;
      std::size_t j = i + 1;
      if (j < s.size() && (s[j] == '!' || s[j] == '^')) {
        cls.negated = true;
        ++j;
      }
      bool first = true;
      for (; j < s.size() && (first || s[j] != ']'); ++j, first = false) {
        char32_t lo = s[j] == '\\' && j + 1 < s.size() ? s[++j] : s[j];
        char32_t hi = lo;
        if (j + 2 < s.size() && s[j + 1] == '-' && s[j + 2] != ']') {
          j += 2;
          hi = s[j] == '\\' && j + 1 < s.size() ? s[++j] : s[j];
        }
        cls.ranges.emplace_back(lo, hi);
      }
      if (j >= s.size()) return Error::BadRequest("Invalid glob: unclosed '['");
      out.tokens.push_back({Kind::kClass, 0, classes_.size()});
      classes_.push_back(std::move(cls));
      i = j;
    } else {
      out.tokens.push_back({Kind::kLiteral, c, 0});
    }
  }
  return out;
}

bool Glob::MatchSegment(const Segment& seg, const std::u32string& name) const {
  auto one = [&](const Token& t, char32_t c) {
    switch (t.kind) {
      case Kind::kLiteral:
        return t.ch == c;
      case Kind::kAnyChar:
        return true;
      case Kind::kClass: {
        const Class& cls = classes_[t.class_index];
        bool in = std::any_of(cls.ranges.begin(), cls.ranges.end(),
                              [c](const auto& r) { return r.first <= c && c <= r.second; });
        return in != cls.negated;
      }
      case Kind::kStar:
        return false;
    }
    return false;
  };
  // Classic wildcard match: on a mismatch, let the last '*' swallow one more character.
  const auto& toks = seg.tokens;
  std::size_t t = 0, n = 0, star = std::u32string::npos, mark = 0;
  while (n < name.size()) {
    if (t < toks.size() && toks[t].kind == Kind::kStar) {
      star = t++;
      mark = n;
    } else if (t < toks.size() && one(toks[t], name[n])) {
      ++t;
      ++n;
    } else if (star != std::u32string::npos) {
      t = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (t < toks.size() && toks[t].kind == Kind::kStar) ++t;
  return t == toks.size();
}

bool Glob::MatchPattern(const Pattern& pattern, const std::vector<std::u32string>& path) const {
  // ok[g][p]: pattern[g..] matches path[p..k) for some k >= 1, i.e. the path itself or one of
  // its folders (gitignore: a matching folder selects everything inside). Bottom-up, so '**'
  // costs O(segments^2) instead of backtracking.
  const std::size_t g_n = pattern.size(), p_n = path.size();
  std::vector<char> ok((g_n + 1) * (p_n + 1), 0);
  auto at = [&](std::size_t g, std::size_t p) -> char& { return ok[g * (p_n + 1) + p]; };
  for (std::size_t p = 0; p <= p_n; ++p) at(g_n, p) = p >= 1;
  for (std::size_t g = g_n; g-- > 0;) {
    const Segment& seg = pattern[g];
    for (std::size_t p = p_n + 1; p-- > 0;) {
      if (seg.globstar && g + 1 == g_n) {
        at(g, p) = p < p_n;  // a trailing "**" means "inside", so at least one segment
      } else if (seg.globstar) {
        at(g, p) = at(g + 1, p) || (p < p_n && at(g, p + 1));
      } else {
        at(g, p) = p < p_n && at(g + 1, p + 1) && MatchSegment(seg, path[p]);
      }
    }
  }
  return at(0, 0);
}

bool Glob::Matches(std::string_view path) const {
  std::vector<std::u32string> segments;
  for (auto seg : SplitSegments(path)) segments.push_back(DecodeUtf8(seg));
  return std::any_of(patterns_.begin(), patterns_.end(),
                     [&](const Pattern& p) { return MatchPattern(p, segments); });
}

}  // namespace polaris::agent
