#include "agent/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace polaris::agent {
namespace {

bool Match(std::string_view glob, std::string_view path) {
  auto g = Glob::Compile(glob);
  EXPECT_TRUE(g.ok()) << glob << ": " << g.error().message;
  return g.ok() && g->Matches(path);
}

TEST(AgentToolsGlob, NameWithoutSlashMatchesAtAnyDepth) {
  EXPECT_TRUE(Match("*.md", "README.md"));
  EXPECT_TRUE(Match("*.md", "docs/a/b.md"));
  EXPECT_FALSE(Match("*.md", "README.mdx"));
  EXPECT_FALSE(Match("*.md", "md"));
  EXPECT_TRUE(Match("package.json", "web/package.json"));
  EXPECT_FALSE(Match("package.json", "web/package.json.bak"));
}

TEST(AgentToolsGlob, SlashAnchorsToTheRoot) {
  EXPECT_TRUE(Match("src/*.ts", "src/a.ts"));
  EXPECT_FALSE(Match("src/*.ts", "lib/src/a.ts"));
  EXPECT_FALSE(Match("src/*.ts", "src/sub/a.ts"));
  EXPECT_TRUE(Match("/README.md", "README.md"));
  EXPECT_FALSE(Match("/README.md", "docs/README.md"));
  EXPECT_TRUE(Match("./src/a.ts", "src/a.ts"));
}

TEST(AgentToolsGlob, StarStaysWithinASegment) {
  EXPECT_TRUE(Match("a*c", "abc"));
  EXPECT_TRUE(Match("a*c", "ac"));
  EXPECT_TRUE(Match("*", "x/y/z"));
  EXPECT_FALSE(Match("/a*", "b"));
  EXPECT_TRUE(Match("*a*b*c*", "xxaxxbxxcxx"));
  EXPECT_FALSE(Match("*a*b*c*d", "xxaxxbxxcxx"));
}

TEST(AgentToolsGlob, DoubleStarSpansSegments) {
  EXPECT_TRUE(Match("src/**/*.ts", "src/a.ts"));
  EXPECT_TRUE(Match("src/**/*.ts", "src/a/b/c.ts"));
  EXPECT_FALSE(Match("src/**/*.ts", "lib/a.ts"));
  EXPECT_TRUE(Match("**/test/*.js", "test/a.js"));
  EXPECT_TRUE(Match("**/test/*.js", "x/y/test/a.js"));
  EXPECT_TRUE(Match("a/**/b/**/c", "a/b/c"));
  EXPECT_TRUE(Match("a/**/b/**/c", "a/x/b/y/z/c"));
  EXPECT_FALSE(Match("a/**/b/**/c", "a/x/y/c"));
  EXPECT_TRUE(Match("**", "anything/at/all"));
}

TEST(AgentToolsGlob, TrailingDoubleStarAndSlashMeanInside) {
  EXPECT_TRUE(Match("src/**", "src/a.ts"));
  EXPECT_TRUE(Match("src/**", "src/a/b.ts"));
  EXPECT_FALSE(Match("src/**", "src"));
  EXPECT_TRUE(Match("src/", "src/a.ts"));
  EXPECT_FALSE(Match("src/", "src"));
  EXPECT_TRUE(Match("lib/", "pkg/lib/a.ts"));  // no inner slash: any depth, like gitignore
}

TEST(AgentToolsGlob, AFolderSelectsItsContents) {
  EXPECT_TRUE(Match("src/lib", "src/lib/a.ts"));
  EXPECT_TRUE(Match("node_modules", "a/node_modules/x/index.js"));
  EXPECT_FALSE(Match("src/lib", "src/library.ts"));
}

TEST(AgentToolsGlob, QuestionMarkAndClasses) {
  EXPECT_TRUE(Match("?.ts", "a.ts"));
  EXPECT_FALSE(Match("?.ts", "ab.ts"));
  EXPECT_TRUE(Match("?.ts", "é.ts"));  // one code point, not one byte
  EXPECT_FALSE(Match("a?b", "a/b"));
  EXPECT_FALSE(Match("/?", "ab"));
  EXPECT_TRUE(Match("file[0-9].txt", "file7.txt"));
  EXPECT_FALSE(Match("file[0-9].txt", "filex.txt"));
  EXPECT_TRUE(Match("file[!0-9].txt", "filex.txt"));
  EXPECT_TRUE(Match("file[^0-9].txt", "filex.txt"));
  EXPECT_FALSE(Match("file[!0-9].txt", "file1.txt"));
  EXPECT_TRUE(Match("[]]", "]"));
  EXPECT_TRUE(Match("[a-]", "-"));
  EXPECT_TRUE(Match("[{,}]", ","));
}

TEST(AgentToolsGlob, BracesGiveAlternatives) {
  EXPECT_TRUE(Match("*.{ts,tsx}", "a/b.tsx"));
  EXPECT_TRUE(Match("*.{ts,tsx}", "b.ts"));
  EXPECT_FALSE(Match("*.{ts,tsx}", "b.js"));
  EXPECT_TRUE(Match("{src,test}/**/*.{js,mjs}", "test/x/y.mjs"));
  EXPECT_TRUE(Match("a{b,c{d,e}}f", "acef"));
  EXPECT_TRUE(Match("a{,x}b", "ab"));
  EXPECT_TRUE(Match("a{b}c", "abc"));
  EXPECT_TRUE(Match("{/README.md,docs/}", "docs/x.md"));
}

TEST(AgentToolsGlob, EscapesAndLiterals) {
  EXPECT_TRUE(Match("\\*.md", "*.md"));
  EXPECT_FALSE(Match("\\*.md", "a.md"));
  EXPECT_TRUE(Match("a\\{b,c}", "a{b,c}"));
  EXPECT_TRUE(Match("x}y", "x}y"));
  EXPECT_TRUE(Match("a,b", "a,b"));
}

TEST(AgentToolsGlob, IsCaseSensitive) {
  EXPECT_FALSE(Match("*.MD", "a.md"));
  EXPECT_TRUE(Match("Makefile", "Makefile"));
}

TEST(AgentToolsGlob, RejectsBadGlobs) {
  EXPECT_FALSE(Glob::Compile("{a,b").ok());
  EXPECT_FALSE(Glob::Compile("a[bc").ok());
  EXPECT_FALSE(Glob::Compile("\xff").ok());
  EXPECT_FALSE(Glob::Compile(std::string(1001, 'a')).ok());
  EXPECT_FALSE(Glob::Compile("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}").ok());  // 512
  EXPECT_FALSE(Glob::Compile("{{{{{{{{{{a}}}}}}}}}}").ok());
  EXPECT_TRUE(Glob::Compile("{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}").ok());  // 256
}

TEST(AgentToolsGlob, ManyStarsStayFast) {
  std::string glob;
  for (int i = 0; i < 40; ++i) glob += "**/";
  glob += "*a*a*a*a*a*a*a*a*b";
  std::string path;
  for (int i = 0; i < 60; ++i) path += std::string(30, 'a') + "/";
  path += std::string(200, 'a');
  EXPECT_FALSE(Match(glob, path));
}

}  // namespace
}  // namespace polaris::agent
