#pragma once
#include <iosfwd>

namespace google::protobuf {
class Message;
}

namespace weft::cli::output {

// Prints a response message as JSON with the proto field names (snake_case).
void PrintJson(std::ostream& out, const google::protobuf::Message& message);

}  // namespace weft::cli::output
