#pragma once
// The dashboard's static files (ui/), embedded at build time by embed_ui.cmake.
#include <string_view>
#include <vector>

namespace weft::server::http {

struct Asset {
  std::string_view path;  // "/index.html", "/js/app.js", ...
  std::string_view body;
};

const std::vector<Asset>& EmbeddedAssets();

// "text/html; charset=utf-8" etc. from the file name's extension.
const char* ContentTypeOf(std::string_view path);

}  // namespace weft::server::http
