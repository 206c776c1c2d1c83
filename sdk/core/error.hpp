#pragma once
// Expected failures are values: Error{code, message} and Result<T>.
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace weft::core {

// A subset of the gRPC status codes; the numbers match grpc::StatusCode.
enum class Code {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kUnauthenticated = 16,
};

const char* CodeName(Code code);

struct Error {
  Code code = Code::kUnknown;
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Error InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Error NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Error AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Error FailedPrecondition(std::string m) { return {Code::kFailedPrecondition, std::move(m)}; }
inline Error Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Error Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

}  // namespace weft::core
