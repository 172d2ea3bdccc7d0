// The fuzz build embeds no web page (bundling it needs npm): no route of the fuzz targets
// serves it, and an empty asset list is what StaticSite::Embedded() handles as "no page".
#include "http/web_assets.h"

namespace polaris::http {

std::span<const WebAsset> EmbeddedWebAssets() {
  return {};
}

}  // namespace polaris::http
