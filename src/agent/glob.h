#pragma once
// Gitignore-style globs over project-relative paths, for the search_files tool.
//   *  any run of characters within one segment     ?  one character (not '/')
//   ** any number of whole segments                  [a-z] [!a-z]  one character of a class
//   {a,b} alternatives (may nest)                    \x  x literally
// A glob without '/' matches the name at any depth ("*.md"); a leading '/' anchors it to the
// root; a trailing '/' means everything inside. Like gitignore, a glob that matches a folder
// matches everything inside it ("src/lib" selects "src/lib/a.ts"). Matching is case-sensitive.
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace polaris::agent {

class Glob {
 public:
  // 400 for unbalanced '{' or '[', invalid UTF-8, or a glob that is too long or expands to
  // too many alternatives.
  static Result<Glob> Compile(std::string_view glob);
  // path: a valid project path ("a/b/c.txt").
  bool Matches(std::string_view path) const;

 private:
  struct Class {
    bool negated = false;
    std::vector<std::pair<char32_t, char32_t>> ranges;
  };
  enum class Kind { kLiteral, kAnyChar, kStar, kClass };
  struct Token {
    Kind kind = Kind::kLiteral;
    char32_t ch = 0;
    std::size_t class_index = 0;
  };
  struct Segment {
    bool globstar = false;  // "**"
    std::vector<Token> tokens;
  };
  using Pattern = std::vector<Segment>;

  Status AddPattern(std::string_view pattern);
  Result<Segment> CompileSegment(std::string_view segment);
  bool MatchSegment(const Segment& seg, const std::u32string& name) const;
  bool MatchPattern(const Pattern& pattern, const std::vector<std::u32string>& path) const;

  std::vector<Pattern> patterns_;
  std::vector<Class> classes_;
};

}  // namespace polaris::agent
