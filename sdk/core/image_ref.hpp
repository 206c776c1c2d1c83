#pragma once
// Container image references (`runner.image`), checked against the grammar of the
// distribution reference (what `docker pull` accepts), so that an image can never be read by
// the docker CLI as an option or split into several words:
//
//   reference := name [":" tag] ["@" digest]
//   name      := [host[":" port] "/"] component ("/" component)*
//   host      := label ("." label)*
//   label     := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]
//   component := [a-z0-9]+ (separator [a-z0-9]+)*
//   separator := "." | "_" | "__" | "-"+
//   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest    := "sha256:" 64 lowercase hex digits
//
// The first part is a host only when more parts follow and it contains '.' or ':' or is
// "localhost" (as docker decides). The name is at most 255 characters.
#include <string>
#include <string_view>

namespace weft::core {

// "" when `ref` is a valid image reference; otherwise what is wrong with it, e.g.
// `starts with '-'`, `contains whitespace`, `path component "Etl" must be lowercase letters,
// digits and separators (. _ __ -)`, `tag "a b" ...`.
std::string ImageReferenceProblem(std::string_view ref);

// A docker network name (`runner.network`, the agent's --docker-network):
// [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 characters, as docker accepts them.
bool IsDockerNetworkName(std::string_view name);

}  // namespace weft::core
