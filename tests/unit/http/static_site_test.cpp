#include "http/static_site.h"

#include <gtest/gtest.h>

#include <string>

namespace polaris::http {
namespace {

using Kind = SiteLookup::Kind;

TEST(StaticSite, PageRoutesGetTheIndex) {
  for (const char* t : {"/", "/index.html", "/projects/prj_abc", "/projects/x/", "/?q=1"}) {
    auto r = ResolveSitePath(t);
    EXPECT_EQ(r.kind, Kind::kIndex) << t;
    EXPECT_EQ(r.path, "/index.html") << t;
  }
}

TEST(StaticSite, AssetsAreLookedUpByTheirExactName) {
  auto r = ResolveSitePath("/assets/app-ABC123.js");
  EXPECT_EQ(r.kind, Kind::kAsset);
  EXPECT_EQ(r.path, "/assets/app-ABC123.js");
  EXPECT_EQ(ResolveSitePath("/robots.txt").path, "/robots.txt");
}

TEST(StaticSite, NoEscapeNoListing) {
  for (const char* t :
       {"/assets/", "/assets", "/assets/../../etc/passwd", "/assets/..%2f..%2fx", "/assets/%2e%2e",
        "/../etc/passwd", "/a/%2e%2e/b", "/assets/a%5cb", "/assets/a%00.js", "/assets/x/y.js",
        "no-slash", "/nope", "/settings/x", "/etc/passwd"}) {
    EXPECT_EQ(ResolveSitePath(t).kind, Kind::kNotFound) << t;
  }
}

TEST(StaticSite, GzipOnlyWhenAccepted) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, gzip;q=0.5, br"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("br, deflate"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip; q=0.000"));
  EXPECT_FALSE(AcceptsGzip("gzipped"));
}

std::string Header(const Response& res, std::string_view name) {
  for (const auto& [k, v] : res.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(StaticSite, IndexIsRevalidatedAndCarriesThePolicy) {
  StaticSite::File file{"text/html; charset=utf-8", "<html>", "GZ"};
  auto res = SiteResponse(ResolveSitePath("/projects/x"), &file, "gzip");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "GZ");
  EXPECT_EQ(Header(res, "Content-Encoding"), "gzip");
  EXPECT_EQ(Header(res, "Cache-Control"), "no-cache");
  EXPECT_NE(Header(res, "Content-Security-Policy").find("script-src 'self';"), std::string::npos);
  auto plain = SiteResponse(ResolveSitePath("/"), &file, "");
  EXPECT_EQ(plain.body, "<html>");
  EXPECT_EQ(Header(plain, "Content-Encoding"), "");
}

TEST(StaticSite, AssetsAreCachedForGood) {
  StaticSite::File file{"text/javascript; charset=utf-8", "js", ""};
  auto res = SiteResponse(ResolveSitePath("/assets/app-X.js"), &file, "gzip");
  EXPECT_EQ(res.body, "js");  // no gzip copy: the plain body
  EXPECT_NE(Header(res, "Cache-Control").find("immutable"), std::string::npos);
  auto missing = SiteResponse(ResolveSitePath("/assets/nope.js"), nullptr, "");
  EXPECT_EQ(missing.status, 404);
}

}  // namespace
}  // namespace polaris::http
