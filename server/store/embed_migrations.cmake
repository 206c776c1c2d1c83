# Generates a .cpp holding migrations/*.sql as raw string literals.
# Usage: cmake -DMIGRATIONS_DIR=... -DOUTPUT=... -P embed_migrations.cmake
file(GLOB files RELATIVE ${MIGRATIONS_DIR} ${MIGRATIONS_DIR}/*.sql)
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  if(NOT f MATCHES "^([0-9]+)_[A-Za-z0-9_]+\\.sql$")
    message(FATAL_ERROR "migration file name must look like 0001_name.sql: ${f}")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  file(READ ${MIGRATIONS_DIR}/${f} sql)
  string(FIND "${sql}" ")weftsql\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f} contains the raw-string delimiter )weftsql\"")
  endif()
  string(APPEND body "      {${version}, \"${f}\", R\"weftsql(${sql})weftsql\"},\n")
endforeach()
set(content "// Generated from migrations/*.sql by server/store/embed_migrations.cmake. Do not edit.
#include \"server/store/migrations.hpp\"

namespace weft::server::store {

const std::vector<Migration>& EmbeddedMigrations() {
  static const std::vector<Migration> migrations = {
${body}  };
  return migrations;
}

}  // namespace weft::server::store
")
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE ${OUTPUT} "${content}")
