#include "cli/output/json.hpp"

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <ostream>

namespace weft::cli::output {

void PrintJson(std::ostream& out, const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  auto status = google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!status.ok()) {
    out << "{}\n";
    return;
  }
  out << text;
  if (text.empty() || text.back() != '\n') out << '\n';
}

}  // namespace weft::cli::output
