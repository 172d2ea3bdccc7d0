#pragma once
// The web page's files as built by web/build.mjs and embedded in the binary (the generated
// web_assets.cpp): each with its gzip copy, served when the client accepts gzip.
#include <span>
#include <string_view>

namespace polaris::http {

struct WebAsset {
  std::string_view path;  // "/index.html", "/assets/app-<hash>.js"
  std::string_view content_type;
  std::string_view body;
  std::string_view gzip;
};

std::span<const WebAsset> EmbeddedWebAssets();

}  // namespace polaris::http
