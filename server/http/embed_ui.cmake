# Generates a .cpp holding every file under ui/ as raw string literals (the dashboard is
# served from the binary: nothing is read from disk or fetched at run time).
# Usage: cmake -DUI_DIR=... -DOUTPUT=... -P embed_ui.cmake
file(GLOB_RECURSE files RELATIVE ${UI_DIR} ${UI_DIR}/*.html ${UI_DIR}/*.css ${UI_DIR}/*.js
     ${UI_DIR}/*.svg)
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  file(READ ${UI_DIR}/${f} text)
  string(FIND "${text}" ")weftui\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "ui/${f} contains the raw-string delimiter )weftui\"")
  endif()
  string(APPEND body "      {\"/${f}\", R\"weftui(${text})weftui\"},\n")
endforeach()
set(content "// Generated from ui/ by server/http/embed_ui.cmake. Do not edit.
#include \"server/http/assets.hpp\"

namespace weft::server::http {

const std::vector<Asset>& EmbeddedAssets() {
  static const std::vector<Asset> assets = {
${body}  };
  return assets;
}

}  // namespace weft::server::http
")
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE ${OUTPUT} "${content}")
