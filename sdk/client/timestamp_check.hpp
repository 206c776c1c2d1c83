#pragma once
// Proto Timestamps from outside: client::FromProto(Timestamp) saturates (a time beyond what a
// TimePoint holds reads as the nearest end, nanos are clamped), so servers refuse such input
// first, naming the field. (sdk/client/convert.cpp)
#include <string>

#include <google/protobuf/timestamp.pb.h>

namespace weft::client {

// "" when `t` is a time Weft can hold (core::kMinUnixSeconds..kMaxUnixSeconds, nanos
// 0..999,999,999); else the problem, naming `field`.
std::string CheckTimestamp(const google::protobuf::Timestamp& t, const std::string& field);

}  // namespace weft::client
